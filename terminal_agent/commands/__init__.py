"""The operator commands of ``terminal-agent`` (argparse in, printing and exit codes out).

``terminal_agent.cli`` maps each command name to a ``run_*`` function here; the functions parse
nothing themselves, call the core and say the outcome in sentences. Nothing below this package
(the core, the switch, the protocol) parses a command line or prints (docs/DESIGN.md §2, §6).
"""
