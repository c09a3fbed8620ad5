"""The sandbox service account: what the gateway signs with in sandbox mode, and what the Vertex
emulator's token endpoint trusts.

The key below is published on purpose and grants nothing anywhere else: only the emulator at
`/sandbox/vertex/token` accepts assertions signed with it. Shipping a fixed key (rather than one
generated per process) lets a separately started sandbox and any client (google-auth, the genai
SDK) share it; the emulator also serves the full JSON at `/sandbox/vertex/service-account.json`.
"""

from __future__ import annotations

import json

SANDBOX_PROJECT = "sandbox-project"
SANDBOX_CLIENT_EMAIL = "mediarouter-sandbox@sandbox-project.iam.gserviceaccount.com"
SANDBOX_KEY_ID = "0000000000000000000000000000000000sandbox"
SANDBOX_PRIVATE_KEY = """\
-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC3bYfnb3866gPl
SHYbJRmRVIB3FbQ6qFFPwvfVSIPrSct3wRMpkIAkgLIxxBrnKJFGvQVGwrQ6ZeQY
IN21FuCEnfZLYFN3gDh9GEPCZu2D2EDYBU9NKvi4MF7iJlwaszqX5zfhlug4vl4T
S0Q29zKQ0q/NpnZ6nH+ciSSs6kOgqk6c5tZ/HsODR+XNNCZ26aChZaBf4bUaH/mB
Azk03WwFYTU92tv5/YrWy8Fy8mRq5o40QWsOz6m34A68YDNOSaJU8HNcbtSOnN13
UlOaZB6vl+nRzIUf62oswbCR7RGNwI+DfgPWYvZy8u/tNTkMX75e2UeeFcR/EK3k
5s8M0Ew7AgMBAAECggEAK9kcpFgUd45qiPx1804+mu2y2gTPtTf4XBNU8GDp3Cyj
XYjDnmuDHna/YkMpVTnu5JSZ9szjjZQ+3v+4UCpcWId0UZeAzG/T0R+kTwwQ2jQv
aBR43Q8ZLtqtS+10lhNjPd3Rj3VmJO5pCb6z21njdhhPW19gMjZIETD9mfJUYUr9
bPhUNWUzfkqbQ/vRsXqJKCe0wcrLfhMVn+N8s7vPOUmXqsuW67g4JdWqC+1pGu05
xDMTbFMfY56C3XnHdxmVm2smJSdHTtJFFBv7cNBDek9L9/UuOgBJGMWrE05ELmr+
YGY/8gfBBwopiWv/fuvZfXdq7KINDROjEoV4OCeHYQKBgQDa9BacCqdcyk67YKmt
YteNV4uU1G2ZV2gNgXHRp3GQ8Jnz3Fojq7GrHjqXxSDdjIV42o4obEdiRh+t7gGj
MaW5CdGUNCU0TgKGn1KL40AEQoH0yScCnaCw0TFG3FDah7W9/yT9Q6pGBNPUnilx
5vLFrpxe1BoKHuX5Gliya/85GwKBgQDWdqjxT43x51q+IAyXG4jWK+jqnlN60v4P
hfFttY/Sd9Rzf9OnM0qPh1HN1+NWaczMJ2X1hnVcgOBXMrTbzbKyN6ed8f0xht2+
73Jom7fZpIIzbzKbnQIx2BmDVw7T/x6BCHnMndqzgWzBhiNE1Mume1x7LOjiYi6L
N9k5wu6LYQKBgA5NbYCp7X7RNE1nJg5Oa5gvBM4nBjXDEOf48a9pSbDXFqdoWHcG
CygLZHZviRMPz9QyKqEXWZ5gyEb7Sh4X6yRoMMmGknuVMPMMSz8aDB97HLQZw7OX
Cl0ifR6M27c6sDOGDCuDFQdX32J/JmPrWyZwnoRPRJgupoUcJHkbNuPLAoGAG+q4
VSko7gtSqZscaHMiHdb7a8cOUNe0UKr74W8X+Kq2kg5aq9Ima4aO5H+szSvah9y9
DffhwRfZnCAyoMYm88IA5LOCZPcMWHVs7CcRCJi8hht8d/s5NOnPcGRdvsTf4KYM
zNDjjihT0uE2KBiXJeW7BSG0cvua2W58rWMtkCECgYAf6ybxMxBuuTR2rEXcRTtW
hc5SsCehYu8Pb/mu9Mcgq3r/eG0sTdpYzBDSuqq/OBijqwoTxKDYfFeufpuZ+0hT
QcNqJ423kdEwCsOULbqhGOh7MX3Z4CYp02CwAMU3F+xujwzE1WvU8r6xFNskP7zC
cxfHSTdSCX092BHkP5L5bw==
-----END PRIVATE KEY-----

"""


def sandbox_service_account(token_uri: str) -> dict[str, str]:
    """The service-account JSON (Google's key-file shape) whose `token_uri` is the emulator's."""
    return {
        "type": "service_account",
        "project_id": SANDBOX_PROJECT,
        "private_key_id": SANDBOX_KEY_ID,
        "private_key": SANDBOX_PRIVATE_KEY,
        "client_email": SANDBOX_CLIENT_EMAIL,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "universe_domain": "googleapis.com",
    }


# The gateway's sandbox-mode options for `vertex` ("{sandbox}" is filled in by app.py).
SANDBOX_OPTIONS: dict[str, str] = {
    "project": SANDBOX_PROJECT,
    "service_account": json.dumps(sandbox_service_account("{sandbox}/token")),
}
