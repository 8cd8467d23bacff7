"""labsupport: models, views, real artifacts and grading for "Deploying Microservices — an interactive course".

Import what a lesson needs from the subpackages (``labsupport.sim``, ``labsupport.views``,
``labsupport.grading``); this module itself stays light so that ``import labsupport`` is fast.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
