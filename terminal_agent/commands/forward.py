"""`terminal-agent forward`: the headless service (core/service.py ``forward``) under systemd."""

from __future__ import annotations

import argparse
import asyncio

from terminal_agent import config as config_mod
from terminal_agent.core import forward


def run_forward(args: argparse.Namespace) -> int:
    from terminal_agent.logs import setup_logging
    from terminal_agent.security import check_agent_security

    cfg = config_mod.load(args.config)
    check_agent_security(cfg)
    setup_logging(cfg.logging, process="forward")
    return asyncio.run(forward(cfg))
