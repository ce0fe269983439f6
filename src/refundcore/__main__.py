"""``python -m refundcore``: the command line (see :mod:`refundcore._cli`)."""

from __future__ import annotations

from refundcore._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
