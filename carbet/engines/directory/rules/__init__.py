"""Directory rules: the registry (``registry``), shared derivations (``graph``) and one module
per PingCastle category (``stale``, ``privileged``, ``trusts``, ``anomalies``)."""

from carbet.engines.directory.rules.registry import (
    Hits,
    NotEvaluated,
    Rule,
    all_rules,
    get,
    register,
    rule,
)

__all__ = ["Hits", "NotEvaluated", "Rule", "all_rules", "get", "register", "rule"]
