"""``bastion users ...``: accounts for people who sign in to the review workbench."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from bastion.accounts.users import PERMISSIONS, ROLE_PERMISSIONS, Role, UserInfo
from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import FormatOption, OutputFormat, note, print_record, print_rows
from bastion.errors import InvalidInput

app = typer.Typer(
    help="Users of the review workbench: create, list, change role or password, disable, unlock."
)

_ROLE_HELP = "Role: " + ", ".join(
    f"{role.value} ({len(ROLE_PERMISSIONS[role])}/{len(PERMISSIONS)} permissions)" for role in Role
)

UsernameArg = Annotated[str, typer.Argument(help="The username (compared in lower case).")]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of stdin instead of prompting (for scripts).",
    ),
]


def user_record(info: UserInfo) -> dict[str, Any]:
    return {
        "username": info.username,
        "display_name": info.display_name,
        "role": info.role.value,
        "languages": info.languages,
        "active": info.active,
        "locked_until": info.locked_until,
        "failed_logins": info.failed_logins,
        "created_by": info.created_by,
        "created_at": info.created_at,
        "password_changed_at": info.password_changed_at,
        "last_login_at": info.last_login_at,
    }


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice without echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("--password-stdin: stdin held no password")
        return password
    entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return entered


@app.command("create")
def create(
    username: UsernameArg,
    role: Annotated[Role, typer.Option("--role", "-r", case_sensitive=False, help=_ROLE_HELP)],
    password_stdin: PasswordStdinOption = False,
    display_name: Annotated[
        str, typer.Option("--display-name", help="The person's name as the workbench shows it.")
    ] = "",
    language: Annotated[
        list[str] | None,
        typer.Option(
            "--language", "-l", help="Language the person reviews in (repeatable); none: any."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Create a user. The password is asked twice (hidden) unless --password-stdin is given."""
    password = read_password(password_stdin)
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.users.create(
            session,
            username=username,
            password=password,
            role=role,
            actor=cli_actor(),
            display_name=display_name,
            languages=language or [],
        )
    print_record(user_record(info), fmt)


@app.command("list")
def list_users(
    active_only: Annotated[
        bool, typer.Option("--active", help="Only users who may sign in (not disabled).")
    ] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List users (never their password hashes)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        found = bastion.users.list(session, include_disabled=not active_only)
    columns = ["username", "display_name", "role", "active", "locked_until", "last_login_at"]
    records = [user_record(info) for info in found]
    rows = [[record[c] for c in columns] for record in records]
    print_rows(fmt, columns, rows, document=records, empty="no users")


@app.command("set-role")
def set_role(
    username: UsernameArg,
    role: Annotated[Role, typer.Argument(case_sensitive=False, help=_ROLE_HELP)],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Give a user another role; it applies to their next request."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.users.set_role(session, username, role, actor=cli_actor())
    print_record(user_record(info), fmt)


@app.command("set-password")
def set_password(
    username: UsernameArg,
    password_stdin: PasswordStdinOption = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Set a user's password; every sign-in of that user ends."""
    password = read_password(password_stdin)
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.users.set_password(session, username, password, actor=cli_actor())
    print_record(user_record(info), fmt)
    if fmt is OutputFormat.TABLE:
        note(f"password changed; {info.username} must sign in again")


@app.command("disable")
def disable(username: UsernameArg, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Refuse a user's sign-ins and end the live ones (the account and its history stay)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.users.disable(session, username, actor=cli_actor())
    print_record(user_record(info), fmt)


@app.command("enable")
def enable(username: UsernameArg, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Let a disabled user sign in again."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.users.enable(session, username, actor=cli_actor())
    print_record(user_record(info), fmt)


@app.command("unlock")
def unlock(username: UsernameArg, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """End a lock-out after repeated wrong passwords, before it runs out."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.users.unlock(session, username, actor=cli_actor())
    print_record(user_record(info), fmt)
