"""``python -m flows`` runs the newsdesk command."""

from flows.cli import main

main()
