"""An emulator of every platform's API on loopback, fed by one seeded synthetic world.

The sandbox imports only ``schema`` and its own world; the real connectors talk to it.
"""

from generator.sandbox.app import PLATFORMS, create_app
from generator.sandbox.credentials import DEMO_CREDENTIALS, DEMO_ENVIRONMENT
from generator.sandbox.faults import Faults
from generator.sandbox.server import RunningSandbox, serve, serve_process
from generator.sandbox.world import WORLD_START, World

__all__ = [
    "DEMO_CREDENTIALS",
    "DEMO_ENVIRONMENT",
    "PLATFORMS",
    "WORLD_START",
    "Faults",
    "RunningSandbox",
    "World",
    "create_app",
    "serve",
    "serve_process",
]
