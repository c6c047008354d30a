"""``check_paths``: what ``carbet exercises check FILE...`` prints, one problem per line."""

from __future__ import annotations

from carbet.engines.exercises import library
from carbet.engines.exercises.check import check_paths


def test_library_files_are_clean():
    assert check_paths(library.library_files()) == []


def test_each_kind_of_file(tmp_path):
    good = tmp_path / "bon.json"
    good.write_bytes(library.library_files()[0].read_bytes())
    bad = tmp_path / "mauvais.json"
    bad.write_text('{\n  "code": "x",\n  "level": "expert"\n}\n')
    chrono = tmp_path / "chrono.csv"
    chrono.write_text("Heure;Objet\nT+5;Alerte\nplus tard;Suite\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    rendered = [
        p.render()
        for p in check_paths([good, bad, chrono, notes, tmp_path / "absent.json", tmp_path])
    ]
    assert (
        f"{bad}:3: scénario : « level » vaut « expert », "
        "valeurs possibles : debutant, intermediaire, confirme" in rendered
    )
    assert f"{bad}:1: scénario : champ obligatoire « title » absent" in rendered
    assert any(line.startswith(f"{chrono}:3: heure « plus tard » illisible") for line in rendered)
    assert (
        f"{notes}: extension inconnue : .json (scénario), .csv ou .xlsx (chronogramme)" in rendered
    )
    assert f"{tmp_path / 'absent.json'}: fichier introuvable" in rendered
    assert (
        f"{tmp_path}: extension inconnue : .json (scénario), .csv ou .xlsx (chronogramme)"
        in rendered
    )
    assert not any(line.startswith(str(good)) for line in rendered)


def test_a_directory_named_like_a_file_and_a_huge_file(tmp_path):
    folder = tmp_path / "dossier.json"
    folder.mkdir()
    huge = tmp_path / "gros.csv"
    huge.write_bytes(b"x" * 5_000_001)
    rendered = [p.render() for p in check_paths([folder, huge])]
    assert rendered == [
        f"{folder}: c'est un dossier, pas un fichier",
        f"{huge}: fichier trop volumineux (5 Mo au plus)",
    ]
