"""`/costcodes import`: the modal's file, fetched from Slack, through the CLI's own intake.

Only people with ERP permission may import: checked before the modal opens and again when it is
submitted. The file is fetched with the bot token from the URL Slack's files.info gives (never
from a URL in the request), read at most `MAX_BYTES`, parsed off the event loop, and applied in
one transaction, so a file that cannot be used writes nothing. The person gets the CLI's report
privately: an ephemeral in the channel the command came from, or a direct message.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.imports import ACCEPTED_TYPES, import_modal, import_report_message
from blocks.imports import import_unusable_message as unusable_message
from blocks.messages import error_message
from bot.core import Core
from bot.costcodes import intake
from bot.costcodes.domain import Caller, Surface
from bot.errors import CostCodeError
from bot.slack.permissions import Permissions

log = logging.getLogger(__name__)

IMPORT = "import cost codes"
MAX_BYTES = 10 * 1024 * 1024
"""Slack's own limit for a file_input upload."""
DOWNLOAD_SECONDS = 60


@dataclass(frozen=True, slots=True)
class SlackFile:
    """A file as the modal's submission describes it (files.info has the last word)."""

    id: str
    name: str
    filetype: str = ""
    size: int | None = None


@dataclass(frozen=True, slots=True)
class ImportSubmission:
    """The submitted import modal: the files chosen and the channel the command came from."""

    files: tuple[SlackFile, ...]
    channel: str | None


class CannotFetch(CostCodeError):
    """Slack would not hand over the file; nothing was imported."""


def accepted(name: str, filetype: str) -> bool:
    """CSV or JSON by name or by Slack's file type (the modal's filetypes are only a hint)."""
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    return suffix in ACCEPTED_TYPES or filetype.lower() in ACCEPTED_TYPES


def problem(submission: ImportSubmission) -> str | None:
    """What is wrong with the submission as the modal shows it, before anything is fetched."""
    if not submission.files:
        return "Choose a CSV or JSON file to import."
    if len(submission.files) > 1:
        return "Import one file at a time."
    (file,) = submission.files
    if not accepted(file.name, file.filetype):
        kind = f" ({file.filetype.upper()})" if file.filetype else ""
        return f"{file.name}{kind} is not a CSV or JSON file. Choose a .csv or .json file."
    if file.size == 0:
        return f"{file.name} is empty. Choose a file with a header row code,description."
    if file.size is not None and file.size > MAX_BYTES:
        return f"{file.name} is larger than {MAX_BYTES // (1024 * 1024)} MB."
    return None


class SlackImport:
    """Opens the import modal and runs a submitted one."""

    def __init__(self, services: Core, client: AsyncWebClient, permissions: Permissions) -> None:
        self._services = services
        self._client = client
        self._permissions = permissions

    async def open(self, caller: Caller, trigger_id: str) -> None:
        await self._permissions.require(caller.user_id, IMPORT)
        await self._client.views_open(trigger_id=trigger_id, view=import_modal(caller.channel_id))

    async def run(self, caller: Caller, submission: ImportSubmission) -> None:
        """Fetch, check and apply the file; the person gets the report, or why nothing was."""
        await self._permissions.require(caller.user_id, IMPORT)
        (chosen,) = submission.files
        name = chosen.name
        try:
            name, raw = await self._fetch(chosen.id)
            rows, problems = await asyncio.to_thread(intake.read_data, raw, name)
        except intake.FileUnusable as exc:
            log.info("import by %s of %s refused: %s", caller.user_id, name, exc.message)
            await self._tell(caller, submission.channel, unusable_message(name, exc.message))
            return
        except CannotFetch as exc:
            await self._tell(caller, submission.channel, error_message(exc.message))
            return
        report = await intake.import_in_transaction(
            self._services.sessions,
            rows,
            problems,
            actor=caller.user_id,
            surface=Surface.SLACK,
            name=name,
        )
        log.info(
            "import by %s of %s: %d added, %d refused",
            caller.user_id,
            name,
            len(report.added),
            len(report.rejected),
        )
        message = import_report_message(name, intake.report_lines(report))
        await self._tell(caller, submission.channel, message)

    async def _fetch(self, file_id: str) -> tuple[str, bytes]:
        try:
            info = (await self._client.files_info(file=file_id))["file"]
        except SlackApiError as exc:
            raise CannotFetch(
                "Slack would not give me the file "
                f"({exc.response.get('error', 'unknown error')}); please try again."
            ) from exc
        name, filetype = str(info.get("name") or file_id), str(info.get("filetype") or "")
        if not accepted(name, filetype):
            raise intake.FileUnusable(f"{name} is not a CSV or JSON file")
        if int(info.get("size") or 0) > MAX_BYTES:
            raise intake.FileUnusable(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB")
        return name, await self._download(str(info["url_private_download"]))

    async def _download(self, url: str) -> bytes:
        headers = {"Authorization": f"Bearer {self._client.token}"}
        timeout = aiohttp.ClientTimeout(total=DOWNLOAD_SECONDS)
        session = self._client.session
        own = session is None
        if session is None:
            session = aiohttp.ClientSession()
        try:
            async with session.get(url, headers=headers, timeout=timeout) as response:
                if response.status != 200 or response.content_type == "text/html":
                    # Without files:read Slack answers with its sign-in page, not the file.
                    log.warning("file download: HTTP %s %s", response.status, response.content_type)
                    raise CannotFetch(
                        "Slack would not give me the file. The app may lack the files:read "
                        "permission; ask the person who runs the bot to reinstall it."
                    )
                return await _read_capped(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CannotFetch(
                "I could not download the file from Slack; please try again."
            ) from exc
        finally:
            if own:
                await session.close()

    async def _tell(self, caller: Caller, channel: str | None, message: dict[str, Any]) -> None:
        """Ephemeral where the command was typed; a direct message if that is not possible."""
        if channel:
            try:
                await self._client.chat_postEphemeral(
                    channel=channel,
                    user=caller.user_id,
                    text=message["text"],
                    blocks=message["blocks"],
                )
                return
            except SlackApiError as exc:
                log.info("import report as ephemeral failed (%s)", exc.response.get("error"))
        await self._client.chat_postMessage(
            channel=caller.user_id, text=message["text"], blocks=message["blocks"]
        )


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    """The body, refused past `MAX_BYTES` whatever files.info said about its size."""
    parts: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BYTES:
            raise intake.FileUnusable(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        parts.append(chunk)
    return b"".join(parts)
