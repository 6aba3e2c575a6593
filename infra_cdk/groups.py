"""Which nested stack each endpoint's resources go to, read from its path.

CloudFormation refuses a template of more than 500 resources, and each endpoint
brings about a dozen (function, role, policy, log group, version and alias on a
SnapStart stage, route, integration, invoke permission, its alarms). The parent
stack keeps what is shared (tables, queues, buckets, secrets, keys, layers, the
HTTP API and its stage, the alarm topic, the dashboard, the schedules); each
endpoint goes to the nested stack of its path's area: ``/api/v1/<area>/...`` is
``<Area>``, anything else (the root, ``/api/v1/`` itself, the docs pages) is
``Site``. A new endpoint lands in its area's stack with no list to edit, and the
endpoints already deployed never move when one is added.

``CEILING`` is what ``tests/infra/test_split.py`` holds every template to (below
500, with room for the next endpoints); when an area outgrows it, split the area
here (by its next path segment) rather than the list of endpoints.
"""

from __future__ import annotations

from functions.catalog import Endpoint

API_PREFIX = "/api/v1/"
SITE = "Site"
# Resources per template that the tests allow: room below CloudFormation's 500.
CEILING = 400
CLOUDFORMATION_LIMIT = 500


def endpoint_group(endpoint: Endpoint) -> str:
    """The nested stack's name (a construct id) for ``endpoint``: its path's area."""
    if not endpoint.path.startswith(API_PREFIX):
        return SITE
    area = endpoint.path.removeprefix(API_PREFIX).split("/", 1)[0]
    if not area or "{" in area:
        return SITE
    return "".join(part.capitalize() for part in area.replace("_", "-").split("-"))


def nested_stack_id(group: str) -> str:
    """The construct id of a group's nested stack under the ``Api`` construct."""
    return f"{group}Endpoints"
