"""How hard the attack suite tries: a quick, repeatable pass in the normal run, a long random
one when KONTEXT_ATTACK_EXAMPLES asks for it (see tests/attack/README.md)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

EXAMPLES_VARIABLE = "KONTEXT_ATTACK_EXAMPLES"
QUICK_EXAMPLES = 20


def examples() -> int:
    """Examples per fuzzed operation: KONTEXT_ATTACK_EXAMPLES, else the quick default."""
    raw = os.environ.get(EXAMPLES_VARIABLE, "").strip()
    return max(1, int(raw)) if raw else QUICK_EXAMPLES


def is_quick() -> bool:
    return not os.environ.get(EXAMPLES_VARIABLE, "").strip()


def fuzz_settings(share: float = 1.0) -> settings:
    """Hypothesis settings for one fuzzed operation, `share` of the budget.

    The quick pass is derandomized, so the normal run is repeatable; a long run explores.
    No example database is written into the checkout, and examples have no deadline (the
    service shares the machine with the test and PostgreSQL)."""
    return settings(
        max_examples=max(1, round(examples() * share)),
        deadline=None,
        database=None,
        derandomize=is_quick(),
        print_blob=True,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )
