"""A network-namespace test lab for voltprobe (issue 3).

shell.py       run a command, fail with its stderr
netns.py       one namespace: ip, sysctl, /etc/netns files
resources.py   what a lab created, and its exact teardown
firewall.py    nftables drop/reject rules on a peer, as data
dnsserver.py   dnsmasq with A/AAAA/A-only/AAAA-only/NXDOMAIN/SERVFAIL names
responder.py   `voltprobe serve` on the DR port
topology.py    the standard lab (probers, peers, addresses, names)
requirements.py  skip (or fail under VOLTPROBE_REQUIRE_LAB=1) when it cannot run
fixtures.py    pytest fixtures: lab_run, lab, clean_lab
scenarios.py   the scenario matrix as data (expected states per target and family)
voltcheck.py   run `voltprobe check` in a prober namespace; compare with a scenario
"""
