"""Checking a presigned S3 URL's SigV4 query signature independently of the server.

moto does not verify query signatures, so the tests do: the signature is recomputed with botocore
from the URL's own parameters (its X-Amz-Date included) and the credentials it should be made with.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass(frozen=True)
class Presigned:
    url: str
    path: str
    params: dict[str, str]

    @classmethod
    def parse(cls, url: str) -> Presigned:
        parts = urlsplit(url)
        return cls(url, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)))

    @property
    def signature(self) -> str:
        return self.params["X-Amz-Signature"]

    @property
    def signed_at(self) -> str:
        return self.params["X-Amz-Date"]

    @property
    def expires(self) -> int:
        return int(self.params["X-Amz-Expires"])

    def is_signed_by(self, access_key_id: str, secret: str, region: str) -> bool:
        parts = urlsplit(self.url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        unsigned = urlencode([(k, v) for k, v in query if k != "X-Amz-Signature"])
        request = AWSRequest(method="GET", url=urlunsplit(parts._replace(query=unsigned)))
        request.context["timestamp"] = self.signed_at
        auth = S3SigV4QueryAuth(Credentials(access_key_id, secret), "s3", region, self.expires)
        canonical = auth.canonical_request(request)
        expected: str = auth.signature(auth.string_to_sign(request, canonical), request)
        return expected == self.signature
