"""The data path: what follows the TCP handshake of an `open` DR endpoint.

`types` holds the settings (the values, JSON in and out, are report vocabulary in
`probe.model` and re-exported there), `measure` the network I/O that fills them,
`rules` the pure reasoning the checks and the family choice share.
"""
