"""Google's two image surfaces: the Gemini API (`gemini`) and Vertex AI (`vertex`).

`generate_content.py` and `predict.py` translate requests and answers once for both;
`gemini.py` and `vertex.py` only place them (base URL, path, auth); `oauth.py` mints Vertex
access tokens from a service account; `errors.py` classifies `google.rpc.Status` errors.
"""

from mediarouter.providers.google.gemini import GeminiAdapter
from mediarouter.providers.google.oauth import vertex_credentials
from mediarouter.providers.google.vertex import VertexAdapter

__all__ = ["GeminiAdapter", "VertexAdapter", "vertex_credentials"]
