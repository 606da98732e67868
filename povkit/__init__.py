"""povkit: turn raw first-person footage into finished film."""

__version__ = "0.1.0"
