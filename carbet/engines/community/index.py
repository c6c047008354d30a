"""The inventory indexed for matching: product lines grouped by CPE (vendor, product) pair and,
within a pair, by the version to compare, so a feed row is compared once per distinct version
and never once per line.

Names from KEV and CERT-FR ("Palo Alto Networks" / "PAN-OS", "Fortinet FortiOS") are matched
vendor-aware: the vendor must be the same once spaces and punctuation are dropped
("paloaltonetworks"), and the product either an alias of the same CPE pair or the first words of
the CPE product ("Windows" for ``windows_server_2019``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from carbet.engines.community.inventory import ProductLine, lookup, parse_version, resolve
from carbet.engines.exposure.vulns.appliances import KEV_PRODUCTS, PRODUCT_FAMILIES, kev_concerns
from carbet.engines.exposure.vulns.cpe import PRODUCT_ALIASES, normalise_product, parse_cpe
from carbet.engines.exposure.vulns.versions import canonical, tokens

Pair = tuple[str, str]
Holder = tuple[int, int]  # (line key, structure)

# Appliance family (appliances.KEV_PRODUCTS) -> the CPE pairs its products are filed under.
FAMILY_PAIRS: dict[str, frozenset[Pair]] = {
    family: frozenset(
        pair
        for name, key in PRODUCT_FAMILIES.items()
        if key == family
        for pair in PRODUCT_ALIASES.get(name, ())
    )
    for family in KEV_PRODUCTS
}

_WORDS = re.compile(r"[a-z0-9]+")


def squash(name: str) -> str:
    """ "Palo Alto Networks" and "paloaltonetworks", "PAN-OS" and "pan-os" compare equal."""
    return "".join(_WORDS.findall(name.lower()))


def words(name: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(name.lower()))


def _snake(name: str) -> str:
    return "_".join(words(name))


@dataclass
class Index:
    """Lines by CPE pair, then by comparable version ("" = unknown)."""

    by_pair: dict[Pair, dict[str, list[Holder]]] = field(default_factory=dict)
    by_vendor: dict[str, set[Pair]] = field(default_factory=dict)  # squashed vendor -> pairs
    lines: int = 0

    @property
    def products(self) -> set[str]:
        return {product for _vendor, product in self.by_pair}

    def add(self, line: ProductLine) -> None:
        pairs, version = _pairs(line.vendor, line.product, line.version, line.cpe)
        self.lines += 1
        holder = (line.key, line.structure)
        for pair in pairs:
            versions = self.by_pair.get(pair)
            if versions is None:
                versions = self.by_pair[pair] = {}
                self.by_vendor.setdefault(squash(pair[0]), set()).add(pair)
            comparable = _canonical(version, pair[0]) if version else ""
            holders = versions.get(comparable)
            if holders is None:
                versions[comparable] = [holder]
            else:
                holders.append(holder)

    def named(self, vendor: str, product: str) -> set[Pair]:
        """Indexed pairs a KEV or CERT-FR (vendor, product) name designates."""
        found: set[Pair] = set()
        families = [key for key in KEV_PRODUCTS if kev_concerns(key, vendor, product)]
        for family in families:
            found |= FAMILY_PAIRS[family] & self.by_pair.keys()
        alias, _version = resolve(vendor, product)
        if alias is not None:
            found |= set(alias.pairs) & self.by_pair.keys()
        wanted, wanted_words = squash(product), words(product)
        if not wanted:
            return found
        for pair in self.by_vendor.get(squash(vendor), ()):
            mine = words(pair[1])
            if squash(pair[1]) == wanted or mine[: len(wanted_words)] == wanted_words:
                found.add(pair)
        return found

    def named_in_text(self, text: str) -> set[Pair]:
        """Indexed pairs a free product text designates ("Fortinet FortiOS", "NextGen
        Healthcare Mirth Connect"): the vendor's words first, as CERT-FR writes them; a known
        product name after other words counts only when they name its vendor."""
        parts = normalise_product(text).split(" ")
        found: set[Pair] = set()
        for cut in range(len(parts)):
            head, tail = " ".join(parts[:cut]), " ".join(parts[cut:])
            alias = lookup("", tail)
            if alias is not None:
                found |= {
                    pair
                    for pair in alias.pairs
                    if pair in self.by_pair and (not cut or squash(pair[0]) in squash(head))
                }
            if cut:
                found |= self.named(head, tail)
        return found


_canonical = lru_cache(maxsize=65536)(canonical)


def line_pairs(line: ProductLine) -> tuple[tuple[Pair, ...], str]:
    """The CPE pairs a line may be filed under in NVD, and its version ("" unknown)."""
    return _pairs(line.vendor, line.product, line.version, line.cpe)


@lru_cache(maxsize=65536)
def _pairs(vendor: str, product: str, version: str, cpe: str) -> tuple[tuple[Pair, ...], str]:
    pairs: list[Pair] = []
    parsed = parse_cpe(cpe.strip()) if cpe else None
    cpe_version = ""
    if parsed is not None:
        pairs.append((parsed.vendor, parsed.product))
        if parsed.version not in ("*", "-", ""):
            cpe_version = parse_version(parsed.full_version())
    alias, clean = resolve(vendor, product, version)
    if alias is not None:
        pairs += alias.pairs
    elif parsed is None and vendor.strip() and product.strip():
        vendor_text, product_text = normalise_product(vendor), normalise_product(product)
        if product_text.startswith(vendor_text + " "):
            product_text = product_text[len(vendor_text) + 1 :]
        pairs.append((_snake(vendor_text), _snake(product_text)))
    if alias is not None and alias.version:
        clean = alias.version  # Windows Server 2012 R2: NVD's version is "r2"
    clean = clean or cpe_version
    return tuple(dict.fromkeys(pairs)), clean if tokens(clean) else ""


def build_index(lines: Iterable[ProductLine]) -> Index:
    index = Index()
    for line in lines:
        index.add(line)
    return index
