"""Building the service from settings; uvicorn's workers build it from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from callscript.errors import FlowError
from callscript.loader import parse_yaml
from callscript.service.library import Library
from callscript.service.state import Service
from callscript.service.webhooks import WebhookConfig, WebhookSecretError, secret_from_env
from callscript.store.crypto import KEY_VARIABLE, Cipher
from callscript.store.db import make_engine

_PREFIX = "CALLSCRIPT_SERVE_"
BACKOFF_VARIABLE = "CALLSCRIPT_WEBHOOK_MAX_BACKOFF"  # the longest wait between two attempts


class SettingsError(Exception):
    """A setting is unusable; the message names it."""


@dataclass
class Settings:
    db: str
    library: list[str] = field(default_factory=list)  # folders or built-in names, as -L
    deployment: Path | None = None
    dev: bool = False
    expire_minutes: int = 240
    webhook: str | None = None  # the receiver's URL; its secret is in the environment

    def to_env(self) -> dict[str, str]:
        return {_PREFIX + "DB": self.db,
                _PREFIX + "LIBRARY": os.pathsep.join(str(p) for p in self.library),
                _PREFIX + "DEPLOYMENT": str(self.deployment or ""),
                _PREFIX + "DEV": "1" if self.dev else "",
                _PREFIX + "EXPIRE_MINUTES": str(self.expire_minutes),
                _PREFIX + "WEBHOOK": self.webhook or ""}

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        library = [p for p in env.get(_PREFIX + "LIBRARY", "").split(os.pathsep) if p]
        deployment = env.get(_PREFIX + "DEPLOYMENT") or None
        return cls(db=env[_PREFIX + "DB"], library=library,
                   deployment=Path(deployment) if deployment else None,
                   dev=bool(env.get(_PREFIX + "DEV")),
                   expire_minutes=int(env.get(_PREFIX + "EXPIRE_MINUTES") or 240),
                   webhook=env.get(_PREFIX + "WEBHOOK") or None)


def cipher_for(dev: bool) -> Cipher:
    cipher = Cipher.from_env()
    if not cipher.encrypts and not dev:
        raise SettingsError(f"{KEY_VARIABLE} is not set: personal data must be encrypted at rest. "
                            "Make a key with `callscript db new-key`, or pass --dev to store it "
                            "unencrypted while trying the service out")
    return cipher


def read_deployment(path: Path | None, library: Library) -> dict[str, Any]:
    """The deployment file: the parts the service fills (deployment: {hotline: …}, …), checked
    against the served libraries; each problem as file:line and the field, never a value."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise SettingsError(f"{path}: cannot read the deployment file (UTF-8 YAML)") from None
    try:
        data, source = parse_yaml(text, str(path))
    except FlowError as err:
        raise SettingsError(str(err)) from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}:1: a deployment file is a mapping of parts "
                            "(deployment: {hotline: …})")
    problems = library.deployment_problems(data, source)
    if problems:
        raise SettingsError("\n".join(str(p) for p in problems))
    return data


def load_library(folders: list[str]) -> Library:
    try:
        return Library(folders)
    except FlowError as err:
        raise SettingsError(str(err)) from None
    except KeyError as err:  # an unknown built-in library: the message names the known ones
        raise SettingsError(str(err.args[0])) from None


def webhook_for(url: str | None) -> WebhookConfig | None:
    if url is None:
        return None
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise SettingsError("--webhook must be an http:// or https:// URL")
    cap = os.environ.get(BACKOFF_VARIABLE, "60")
    try:
        backoff_max = float(cap)
    except ValueError:
        backoff_max = -1
    if not 0.1 <= backoff_max <= 3600:
        raise SettingsError(f"{BACKOFF_VARIABLE} is seconds between 0.1 and 3600")
    try:
        return WebhookConfig(url, secret_from_env(), backoff_max=backoff_max)
    except WebhookSecretError as err:
        raise SettingsError(str(err)) from None


def build_service(settings: Settings) -> Service:
    library = load_library(settings.library)
    return Service(engine=make_engine(settings.db), cipher=cipher_for(settings.dev),
                   library=library, deployment=read_deployment(settings.deployment, library),
                   expire_after=timedelta(minutes=settings.expire_minutes),
                   webhook=webhook_for(settings.webhook))


def app_from_env() -> FastAPI:
    """uvicorn's factory in each worker (`serve` has already run the migrations)."""
    from callscript.service.app import create_app

    return create_app(build_service(Settings.from_env()))
