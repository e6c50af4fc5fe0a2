"""Building the service from settings; uvicorn's workers build it from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI

from callscript.service.library import Library, deployment_problems
from callscript.service.state import Service
from callscript.store.crypto import KEY_VARIABLE, Cipher
from callscript.store.db import make_engine

_PREFIX = "CALLSCRIPT_SERVE_"


class SettingsError(Exception):
    """A setting is unusable; the message names it."""


@dataclass
class Settings:
    db: str
    library: list[Path] = field(default_factory=list)
    deployment: Path | None = None
    dev: bool = False
    expire_minutes: int = 240

    def to_env(self) -> dict[str, str]:
        return {_PREFIX + "DB": self.db,
                _PREFIX + "LIBRARY": os.pathsep.join(str(p) for p in self.library),
                _PREFIX + "DEPLOYMENT": str(self.deployment or ""),
                _PREFIX + "DEV": "1" if self.dev else "",
                _PREFIX + "EXPIRE_MINUTES": str(self.expire_minutes)}

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        library = [Path(p) for p in env.get(_PREFIX + "LIBRARY", "").split(os.pathsep) if p]
        deployment = env.get(_PREFIX + "DEPLOYMENT") or None
        return cls(db=env[_PREFIX + "DB"], library=library,
                   deployment=Path(deployment) if deployment else None,
                   dev=bool(env.get(_PREFIX + "DEV")),
                   expire_minutes=int(env.get(_PREFIX + "EXPIRE_MINUTES") or 240))


def cipher_for(dev: bool) -> Cipher:
    cipher = Cipher.from_env()
    if not cipher.encrypts and not dev:
        raise SettingsError(f"{KEY_VARIABLE} is not set: personal data must be encrypted at rest. "
                            "Make a key with `callscript db new-key`, or pass --dev to store it "
                            "unencrypted while trying the service out")
    return cipher


def read_deployment(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        raise SettingsError(f"{path}: cannot read the deployment file") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise SettingsError(f"{path}{where}: not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: a deployment file is a mapping (carrier: …, hotline: …)")
    wrong = deployment_problems(data)
    if wrong:
        raise SettingsError(f"{path}: unknown or invalid fields: {', '.join(wrong)}")
    return data


def library_files(paths: list[Path]) -> list[Path]:
    """Flow files: each file given, and the YAML files of each folder given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        elif path.is_file():
            files.append(path)
        else:
            raise SettingsError(f"{path}: no such file or folder (-L)")
    return files


def build_service(settings: Settings) -> Service:
    return Service(engine=make_engine(settings.db), cipher=cipher_for(settings.dev),
                   library=Library(library_files(settings.library)),
                   deployment=read_deployment(settings.deployment),
                   expire_after=timedelta(minutes=settings.expire_minutes))


def app_from_env() -> FastAPI:
    """uvicorn's factory in each worker (`serve` has already run the migrations)."""
    from callscript.service.app import create_app

    return create_app(build_service(Settings.from_env()))
