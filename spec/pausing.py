"""Pausing a domain on behalf of its controller (``XEN_DOMCTL_pausedomain`` and
``XEN_DOMCTL_unpausedomain``, [UP] domctl.c and domain.c).

The controller's pause count is what v8's SET looks at (``set_requires_pause``); the
other designs keep the count but never read it. ``domain_create()`` starts it at 1, and
the toolstack unpauses once when the guest should run.
"""

from __future__ import annotations

from .abi import EINVAL, EOVERFLOW, OK, Rc
from .abi_v8 import CONTROLLER_PAUSE_MAX
from .hypercalls import DOMCTL_UNKNOWN_DOMAIN
from .registry import c_function
from .rules import rule
from .state import Domain, HostState

_SRC = "[UP] domain.c, domctl.c"

PAUSE_DOMAIN = rule(
    "pause-domain",
    "XEN_DOMCTL_pausedomain adds one to the domain's controller_pause_count (a new domain "
    "starts at 1); re-pausing a running domain makes v8's SET possible again.",
    effect="raises controller_pause_count",
    function="domain_pause_by_systemcontroller",
    source=_SRC + "; [V8] 71126705126",
)
PAUSE_OVERFLOW = rule(
    "pause-overflow",
    "A pause that would take controller_pause_count above 255 is refused.",
    errno=EOVERFLOW,
    function="domain_pause_by_systemcontroller",
    source=_SRC,
)
UNPAUSE_DOMAIN = rule(
    "unpause-domain",
    "XEN_DOMCTL_unpausedomain takes one from controller_pause_count; at 0 the domain runs.",
    effect="lowers controller_pause_count",
    function="domain_unpause_by_systemcontroller",
    source=_SRC,
)
UNPAUSE_NOT_PAUSED = rule(
    "unpause-not-paused",
    "Unpausing a domain whose controller_pause_count is 0 is refused.",
    errno=EINVAL,
    function="domain_unpause_by_systemcontroller",
    source=_SRC,
)


@c_function(
    "domain_pause_by_systemcontroller",
    "int domain_pause_by_systemcontroller(struct domain *d)",
    "Pause a domain for its controller, at most 255 times.",
    source=_SRC,
)
def pause_domain(h: HostState, d: Domain | None) -> Rc:
    """``XEN_DOMCTL_pausedomain``."""
    if d is None:
        return h.fire(DOMCTL_UNKNOWN_DOMAIN)
    if d.controller_pause_count + 1 > CONTROLLER_PAUSE_MAX:
        return h.fire(PAUSE_OVERFLOW)
    d.controller_pause_count += 1
    h.fire(PAUSE_DOMAIN)
    return OK


@c_function(
    "domain_unpause_by_systemcontroller",
    "int domain_unpause_by_systemcontroller(struct domain *d)",
    "Drop one pause of the controller.",
    source=_SRC,
)
def unpause_domain(h: HostState, d: Domain | None) -> Rc:
    """``XEN_DOMCTL_unpausedomain``."""
    if d is None:
        return h.fire(DOMCTL_UNKNOWN_DOMAIN)
    if d.controller_pause_count == 0:
        return h.fire(UNPAUSE_NOT_PAUSED)
    d.controller_pause_count -= 1
    h.fire(UNPAUSE_DOMAIN)
    return OK
