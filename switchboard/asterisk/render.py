"""Rendering the Asterisk configuration templates of ``asterisk-config/``.

Templates are Jinja2 with ``StrictUndefined``: a missing value is an error,
never an empty string in a config file. Asterisk's own ``${VAR}`` and
``$[...]`` syntax is not Jinja syntax and passes through untouched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import jinja2

from switchboard.asterisk.exceptions import ConfigRenderError

# Files the engine owns and rewrites at run time: created empty once, never
# overwritten by a render.
ENGINE_OWNED = ("pjsip_switchboard.conf",)


# Local instances listen on loopback only; a container deployment renders the
# same templates with other bindings (``switchboard asterisk render``).
LOOPBACK_BINDINGS: dict[str, object] = {
    "bind_host": "127.0.0.1",
    "sip_bind_host": "127.0.0.1",
    "ami_permit": "127.0.0.1/255.255.255.255",
}


def render_config(template_dir: Path, etc_dir: Path, context: Mapping[str, object]) -> list[Path]:
    """Render every ``*.conf`` template into ``etc_dir``.

    Args:
        template_dir: The ``asterisk-config/`` directory.
        etc_dir: The instance's configuration directory (created if needed).
        context: Values for the templates.

    Returns:
        The files written, engine-owned placeholders included.

    Raises:
        ConfigRenderError: A template is missing, malformed or uses an unknown value.
    """
    templates = sorted(template_dir.glob("*.conf"))
    if not templates:
        raise ConfigRenderError(f"no *.conf templates in {template_dir}")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    etc_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for template in templates:
        if template.name in ENGINE_OWNED:
            continue
        try:
            text = env.get_template(template.name).render(**context)
        except jinja2.TemplateError as exc:
            raise ConfigRenderError(
                f"cannot render {template}: {exc}", template=str(template)
            ) from exc
        written.append(write_atomically(etc_dir / template.name, text))
    for name in ENGINE_OWNED:
        target = etc_dir / name
        if not target.exists():
            written.append(write_atomically(target, "; written by the Switchboard engine\n"))
    return written


def write_atomically(path: Path, text: str, *, owner: int | None = None, mode: int = 0o640) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    Args:
        path: Destination.
        text: Content.
        owner: uid (and gid) to own the file, e.g. Asterisk's 101; unchanged if None.
        mode: Permission bits.

    Returns:
        ``path``.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    if owner is not None:
        os.chown(tmp, owner, owner)
    os.replace(tmp, path)
    return path
