"""`python -m gateway` is the `ottla` command."""

from gateway.cli import main

raise SystemExit(main())
