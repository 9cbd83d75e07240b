"""Both directions, every cluster: reports made in different clusters, merged.

advertised.py  advertised(local, dr_port)     what a cluster offers (reads `local` JSON)
peers.py       peer_targets(name, doc, name)  check --peer-report: those as targets
cells.py       measure(report, ...) -> Cell   one direction in one family
matrix.py      merge(inputs) -> Merged        pairing, matrix, values per cluster
diff.py        diff(old, new) -> ReportDiff   report --diff
"""
