"""`python -m skill` is the `hip-helper` command."""
from skill.cli import main

raise SystemExit(main())
