"""Plans gate features, not only quantities.

A tenant's ``plan`` names one of :data:`PLAN_FEATURES`; a route that needs a
feature calls :func:`ensure_feature` (403 ``plan_feature_missing`` naming the
plan that has it). Seed 002: SMS actions need the Growth plan or higher.
"""

from __future__ import annotations

from switchboard.models import Tenant
from switchboard.services.exceptions import Forbidden

PLANS = ("starter", "growth", "pro", "enterprise")
_GROWTH = frozenset({"voice", "contacts", "sms", "review_requests"})
PLAN_FEATURES: dict[str, frozenset[str]] = {
    "starter": frozenset({"voice", "contacts"}),
    "growth": _GROWTH,
    "pro": _GROWTH | {"mms"},
    "enterprise": _GROWTH | {"mms"},
}


class PlanFeatureMissing(Forbidden):
    """The tenant's plan does not include the feature (403)."""

    code = "plan_feature_missing"
    default_message = "Plan does not include this feature"


def has_feature(tenant: Tenant, feature: str) -> bool:
    """Whether the tenant's plan includes ``feature``."""
    return feature in PLAN_FEATURES.get(tenant.plan, frozenset())


def ensure_feature(tenant: Tenant, feature: str) -> None:
    """Refuse when the tenant's plan lacks ``feature``.

    Raises:
        PlanFeatureMissing: naming the feature and the lowest plan that has it.
    """
    if has_feature(tenant, feature):
        return
    lowest = next((p for p in PLANS if feature in PLAN_FEATURES[p]), None)
    raise PlanFeatureMissing(
        f"The {tenant.plan} plan does not include {feature.replace('_', ' ')}"
        + (f"; it needs the {lowest} plan or higher" if lowest else ""),
        field="plan",
        details={"feature": feature, "plan": tenant.plan, "needs": lowest},
    )
