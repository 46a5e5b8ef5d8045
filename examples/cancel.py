# Cancel a claim after max_pages fell below what the domain owns (NT3 case TCCH):
# v6 checks max_pages first and refuses, v7 always releases.
host = Host(nodes=[8])
d = host.create_domain()
host.claim_memory(d, [ClaimEntry(4, HOST)])
page = host.alloc_domheap_pages(d)
host.set_max_pages(d, 0)
host.claim_memory(d, [ClaimEntry(0, HOST)])
