from probe.cli import console

console()
