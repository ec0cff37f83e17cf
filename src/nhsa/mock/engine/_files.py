"""9101 文件上传 and 9102 文件下载 (reference §2.5).

An upload is Base64 in ``fsUploadIn.in`` (a ZIP by convention; the platform keeps the bytes as
sent) and gets a ``file_qury_no``. A download answers the file's raw bytes, not a JSON envelope:
the :class:`~nhsa.mock.engine.Answer` carries them in ``file``. Both the uploads and the 3202
result files can be downloaded until their ``dld_endtime``. The ``filename`` of a 9102 request
is not checked (the spec fixes it to "plc" for catalogue downloads and names nothing else).

Example::

    answer = upload_file(ctx, node)       # output {"file_qury_no": …, "filename": …, …}
"""

from __future__ import annotations

import base64
import binascii

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.engine._types import Answer
from nhsa.mock.store import StoredFile
from nhsa.models import Input9101, Input9102


def _own_code(ctx: Context, sent: str, pointer: str) -> None:
    if sent != ctx.tenant:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：{pointer}={sent} 与报文机构 fixmedins_code={ctx.tenant} 不符",
            f"{pointer} {sent} is not the sending institution {ctx.tenant}",
        )


def upload_file(ctx: Context, node: Input9101) -> Answer:
    """9101: keep the file and answer its ``file_qury_no``."""
    upload = node.fsUploadIn
    _own_code(ctx, upload.fixmedins_code, "/input/fsUploadIn/fixmedins_code")
    try:
        content = base64.b64decode(upload.in_, validate=True)
    except (binascii.Error, ValueError):
        raise BusinessError(
            "envelope.validation_failed",
            "报文校验失败：/input/fsUploadIn/in 不是合法的 Base64 编码",
            "/input/fsUploadIn/in is not valid Base64 (encode the ZIP file's bytes)",
        ) from None
    file_qury_no = ctx.new_id("file_qury_no")
    dld_endtime = ctx.now + ctx.options.file_valid_for
    ctx.tx.put(
        StoredFile(
            ctx.tenant, file_qury_no, upload.filename, "upload", content, ctx.now, dld_endtime
        )
    )
    output = {
        "file_qury_no": file_qury_no,
        "filename": upload.filename,
        "dld_endtime": dld_endtime.strftime(DATETIME),
    }
    return Answer.ok(output, changed=True, effects={"file_qury_no": file_qury_no})


def download_file(ctx: Context, node: Input9102) -> Answer:
    """9102: the file's bytes, in ``Answer.file``."""
    request = node.fsDownloadIn
    _own_code(ctx, request.fixmedins_code, "/input/fsDownloadIn/fixmedins_code")
    stored = ctx.tx.get(StoredFile, ctx.tenant, request.file_qury_no)
    if stored is None:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：文件查询号 file_qury_no={request.file_qury_no} 不存在",
            f"file_qury_no {request.file_qury_no} names no file of this institution",
        )
    if ctx.now > stored.dld_endtime:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：文件 {stored.filename} 已过下载截止时间 "
            f"{stored.dld_endtime.strftime(DATETIME)}；请重新对账(3202)生成文件",
            f"file {stored.filename} could be downloaded until "
            f"{stored.dld_endtime.strftime(DATETIME)}: run 3202 again for a new one",
        )
    return Answer.ok({}, file=stored.content, effects={"file_qury_no": stored.file_qury_no})
