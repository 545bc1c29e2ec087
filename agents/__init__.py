"""Mesa agents of the model: ``FirmAgent`` (one factory, or ``weight`` identical ones)."""
from zcf.agents.firm import FirmAgent

__all__ = ["FirmAgent"]
