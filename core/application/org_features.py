"""Features of organizations: a route scoped to an organization checks a feature
against that organization's plan, never the caller's own.

The check reads nothing: it takes the organization the use case has already read
(with the caller's membership, in one read), as ``billing.require_feature`` takes
the user that authentication loaded. The plan in force follows the person's rule
(``org_billing.org_entitlements``: paid, trialing, or inside the grace period of a
failed payment).
"""

from __future__ import annotations

from datetime import datetime

from core.application.billing import BillingConfig
from core.application.errors import PlanRequired
from core.application.org_billing import org_entitlements
from core.domain.organization import Organization

# The organization features the code itself gates (plans name them in
# configuration). The audit log is recorded for every organization; reading it
# is the feature, so an upgrade shows the history from the start.
AUDIT_LOG = "audit_log"


def require_org_feature(
    config: BillingConfig, org: Organization, feature: str, now: datetime
) -> None:
    """``PlanRequired``, naming the plans that have ``feature``, unless the plan in
    force for ``org`` at ``now`` includes it."""
    if not org_entitlements(config, org, now).allows(feature):
        raise PlanRequired(feature, config.catalog.plans_with(feature))
