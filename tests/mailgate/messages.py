"""Real-world shaped mail, written as the bytes an MTA pipes (CRLF kept out for reading)."""

from __future__ import annotations

import base64


def raw(text: str, encoding: str = "ascii") -> bytes:
    return text.lstrip("\n").replace("\n", "\r\n").encode(encoding)


PLAIN = raw("""
Return-Path: <rita@example.com>
From: Rita Reporter <rita@example.com>
To: infra@dutydesk.example.com
Subject: Devicelab bot 12 offline since Monday
Date: Mon, 23 Nov 2026 09:12:44 -0800
Message-ID: <CAB1x7=plain@mail.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 7bit

Bot 12 has not picked up a job since Monday morning.
Where: devicelab, rack 3.

--
Rita
""")

ALTERNATIVE = raw("""
From: "Gmail User" <newcomer@gmail.example>
To: infra@dutydesk.example.com
Subject: Quota for the perf bucket is almost gone
Message-ID: <CAF=alt+1@mail.gmail.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

The perf bucket is at 97% of its quota; uploads will fail by Friday.

--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">The perf bucket is at <b>97%</b> of its quota; uploads wil=
l fail by Friday.</div>

--000000000000a1b2c3--
""")

HTML_ONLY = raw("""
From: Outlook Person <outlook.person@corp.example>
To: infra@dutydesk.example.com
Subject: Builder config request
Message-ID: <DM6PR1101MB2@outlook.example>
MIME-Version: 1.0
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

<html><head><style>p {margin:0}</style></head><body>
<p>Please add a <b>linux-web-engine</b> builder.</p>
<ul><li>pool: luci.flutter.prod</li><li>os: Ubuntu 22.04</li></ul>
<script>alert(1)</script>
</body></html>
""")

LATIN1 = raw("""
From: =?ISO-8859-1?Q?Jos=E9_Garc=EDa?= <jose@example.es>
To: infra@dutydesk.example.com
Subject: =?ISO-8859-1?Q?Caf=E9_machine_builder_fails_=E0_l'=E9tape_2?=
Message-ID: <20261123.latin1@example.es>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

La compilaci=F3n falla en el paso 2: se=F1al 11.
""")

_SJIS_BODY = base64.encodebytes(
    "ビルドが失敗しています。ログを確認してください。\n".encode("shift_jis")
)
SHIFT_JIS = raw(
    """
From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.jp>
To: infra@dutydesk.example.com
Subject: =?Shift_JIS?B?g3KDi4NogqqOuJRzgrWCxIKigtyCtw==?=
Message-ID: <sjis.1@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=Shift_JIS
Content-Transfer-Encoding: base64

"""
) + _SJIS_BODY.replace(b"\n", b"\r\n")


def with_attachments(small: bytes, big: bytes) -> bytes:
    head = raw("""
From: Rita Reporter <rita@example.com>
To: infra@dutydesk.example.com
Subject: Flaky test logs attached
Message-ID: <attach.1@mail.example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed-42"

--mixed-42
Content-Type: text/plain; charset=utf-8

Two logs: the short one shows the failure.

--mixed-42
Content-Type: text/plain; name="short.log"
Content-Disposition: attachment; filename="short.log"
Content-Transfer-Encoding: base64

""")
    mid = raw("""
--mixed-42
Content-Type: application/gzip; name="full.log.gz"
Content-Disposition: attachment; filename="full.log.gz"
Content-Transfer-Encoding: base64

""")
    tail = raw("""
--mixed-42--
""")
    enc = lambda b: base64.encodebytes(b).replace(b"\n", b"\r\n")  # noqa: E731
    return head + enc(small) + mid + enc(big) + tail


def auto_reply(header: str) -> bytes:
    return raw(f"""
From: Rita Reporter <rita@example.com>
To: infra@dutydesk.example.com
Subject: Out of office: INFRA-1
Message-ID: <ooo.{abs(hash(header))}@mail.example.com>
{header}
Content-Type: text/plain; charset=utf-8

I am away until Monday.
""")


def reply(
    subject: str,
    in_reply_to: str | None,
    body: str,
    sender: str = "rita@example.com",
    message_id: str = "<reply.1@mail.example.com>",
) -> bytes:
    threading = f"In-Reply-To: {in_reply_to}\nReferences: {in_reply_to}\n" if in_reply_to else ""
    return raw(
        f"""
From: Someone <{sender}>
To: infra@dutydesk.example.com
Subject: {subject}
Message-ID: {message_id}
{threading}Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

{body}
""",
        "utf-8",
    )
