"""xen-claims-spec: an executable reference model of Xen's NUMA-aware memory claims.

>>> from spec import Host, ClaimEntry, HOST
>>> host = Host(nodes=[8, 8], design="v7")
>>> d = host.create_domain()
>>> host.claim_memory(d, [ClaimEntry(4, 0), ClaimEntry(4, HOST)])
0
>>> host.physinfo()
(16, 8)
"""

from . import hypercalls as hypercalls  # registers the C names of every model module
from .abi import (
    HOST,
    LEGACY,
    ClaimEntry,
    Page,
    Rc,
)
from .designs import DESIGNS, Design, get_design
from .host import Host
from .invariants import INVARIANTS, Invariant, InvariantViolation
from .registry import C_NAMES
from .rules import RULES, Rule, observe
from .state import Domain, domain_tot_pages

__all__ = [
    "C_NAMES",
    "DESIGNS",
    "HOST",
    "INVARIANTS",
    "LEGACY",
    "RULES",
    "ClaimEntry",
    "Design",
    "Domain",
    "Host",
    "Invariant",
    "InvariantViolation",
    "Page",
    "Rc",
    "Rule",
    "domain_tot_pages",
    "get_design",
    "observe",
]
__version__ = "0.1.0"
