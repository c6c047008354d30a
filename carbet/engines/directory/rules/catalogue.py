"""The rule catalogue, generated from the registry: ``docs/directory-rules.md``.

``python -m carbet.engines.directory.rules.catalogue --write`` rewrites the file; a test fails
when the registry and the file disagree, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from carbet.engines.directory.rules.registry import Rule, all_rules
from carbet.engines.directory.scoring import CATEGORIES

DOC_PATH = Path(__file__).resolve().parents[4] / "docs" / "directory-rules.md"
CATEGORY_TITLES = {
    "stale_objects": "Objets obsolètes",
    "privileged_accounts": "Comptes à privilèges",
    "trusts": "Relations d'approbation",
    "anomalies": "Anomalies",
}
SEVERITIES = {0: "information", 1: "faible", 2: "moyenne", 3: "élevée", 4: "critique"}

INTRODUCTION = """\
# Règles d'audit de l'annuaire (Active Directory)

Ce catalogue est **généré depuis le code** (`carbet/engines/directory/rules/`) :
`python -m carbet.engines.directory.rules.catalogue --write`. Ne pas le modifier à la main.

## Comment lire un résultat

- **Identifiant** : celui du point de contrôle de l'ANSSI quand il existe (`vuln1_spn_priv`),
  sinon un identifiant Carbet (`kerberoastable_users`). Un identifiant ne change jamais de sens.
- **Niveau ANSSI** (1 à 5) : le niveau de l'annuaire est le plus bas des niveaux des points de
  contrôle en échec, 5 si aucun n'échoue. Niveau 1 : critique ; niveau 5 : l'état de l'art.
  Les règles propres à Carbet ne changent pas ce niveau.
- **Score** (compatible PingCastle) : chaque règle en échec ajoute des points à sa catégorie
  (fixes, par objet avec plancher et plafond, ou par paliers : âge du mot de passe krbtgt à 1,
  2, 3 et 4 ans) ; chaque catégorie est plafonnée à 100 ; le score global est le maximum des
  quatre catégories. Plus bas est meilleur.
- **Exploitable maintenant** : la faiblesse permet à un attaquant disposant d'un simple compte
  (parfois d'aucun) de prendre le domaine aujourd'hui. Ces constats passent avant les autres,
  quels que soient leurs points.
- **Exceptions** (gratuites) : une exception justifiée, avec une date d'échéance, retire un
  objet (ou toute une règle avec `*`) des points et du niveau ANSSI ; le constat reste affiché
  avec ses objets exceptés. Le niveau « sans exceptions » reste disponible pour un auditeur.
- **Non évalué** : quand le collecteur n'a pas pu lire une donnée, la règle n'est ni réussie ni
  échouée, elle est listée avec la raison. Une entrée de `Snapshot.gaps` suspend les règles qui
  lisent le champ qu'elle nomme : le nom du champ suivi de « : » (`dns_zones: accès refusé`,
  `domain: ...` pour tous les champs `domain.*`) ou la formulation du collecteur
  (`dSHeuristics not readable`, `SYSVOL (Group Policy Preferences)`, `DNS zones in ...`,
  `certificate templates ...`, `LAPS schema`, `... security descriptor ...`). Un objet isolé
  ignoré (« skipped ») ne suspend rien, mais le résultat garde la liste des lacunes (`gaps`)
  pour dire que la collecte était partielle. Si un point de contrôle non évalué a un niveau
  plus bas que le niveau calculé, ce niveau n'est qu'un plafond (`anssi_level_complete`).
- **Privilèges** : un compte est privilégié par appartenance, même imbriquée ou par groupe
  principal, aux groupes Administrateurs, Opérateurs de compte, de serveur, d'impression, de
  sauvegarde, Admins du domaine, Administrateurs du schéma et de l'entreprise, Key Admins
  (reconnus par SID/RID, jamais par `adminCount` que Samba ne tient pas), plus le compte
  Administrateur intégré (RID 500).
- **Samba** : la colonne indique si un contrôleur Samba peut exprimer la faiblesse (tests de
  bout en bout) ; les autres règles sont testées sur des instantanés construits.
- **Import PingCastle** : un rapport `ad_hc_<domaine>.xml` donne le même format de résultat ;
  les règles PingCastle équivalentes prennent l'identifiant Carbet, les autres
  `pingcastle.<RiskId>` ; scores et niveau de maturité sont ceux du rapport.
"""


def _anssi(rule: Rule) -> str:
    return f"niveau {rule.level}" if rule.anssi else "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    rules = all_rules()
    lines = [INTRODUCTION]
    lines.append(f"**{len(rules)} règles.**\n")
    for category in CATEGORIES:
        members = [r for r in rules.values() if r.category == category]
        lines.append(f"## {CATEGORY_TITLES[category]} ({len(members)})\n")
        lines.append("| règle | ANSSI | gravité | points | exploitable | Samba | titre |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- |")
        for rule in members:
            lines.append(
                f"| [`{rule.id}`](#{rule.id}) | {_anssi(rule)} | {SEVERITIES[rule.severity]} "
                f"| {_cell(rule.points.describe())} | {'oui' if rule.exploitable_now else ''} "
                f"| {'oui' if rule.samba else 'non'} | {_cell(rule.title_fr)} |"
            )
        lines.append("")
        for rule in members:
            lines.append(f'<a id="{rule.id}"></a>\n')
            lines.append(f"### `{rule.id}` — {rule.title_fr}\n")
            lines.append(f"*{rule.title_en}.*\n")
            lines.append(f"**Pourquoi.** {rule.description_fr}\n")
            lines.append(f"**Que faire.** {rule.remediation_fr}\n")
            if rule.command:
                lines.append(f"```powershell\n{rule.command}\n```\n")
    lines += _pingcastle_section()
    return "\n".join(lines).rstrip() + "\n"


def _pingcastle_section() -> list[str]:
    from carbet.engines.directory.pingcastle import RULE_MAP

    lines = [
        "## Correspondance avec PingCastle\n",
        "Un rapport PingCastle importé garde ses points ; chaque règle PingCastle ci-dessous "
        "prend l'identifiant Carbet indiqué (les autres deviennent `pingcastle.<RiskId>`).\n",
        "| règle PingCastle | règle Carbet |",
        "| --- | --- |",
    ]
    lines += [f"| `{risk}` | [`{rule}`](#{rule}) |" for risk, rule in sorted(RULE_MAP.items())]
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Catalogue des règles d'audit de l'annuaire.")
    parser.add_argument("--write", action="store_true", help=f"réécrire {DOC_PATH}")
    args = parser.parse_args(argv)
    text = render_markdown()
    if args.write:
        DOC_PATH.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
