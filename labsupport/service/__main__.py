"""``python -m labsupport.service --port 0 --version v1``: serve the Restaurant Service on 127.0.0.1."""

from ._server import main

raise SystemExit(main())
