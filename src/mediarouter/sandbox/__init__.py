"""Emulators of each provider's real wire protocol, with fault injection, for tests without internet.

Shared parts: `app.py` (mounting, the `EMULATORS` registry, `/_faults`), `faults.py` (the fault book),
`injection.py` (how a fault looks on the wire), `images.py` (real pictures), `files.py` (expiring
image URLs), `context.py` (what an emulator is built from). One module or package per provider.
"""
