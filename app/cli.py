"""Command line: `ayni <command>` (or `flask --app app <command>`).

Edges only: each command opens a transaction and calls services. Output is
Spanish first, with English, like every user-facing text of Ayni.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from app.auth import accounts, app_users, permissions
from app.blobs import erase_unused
from app.config import private_file
from app.datebounds import DateBoundError, parse_instant
from app.db.migrate import upgrade as migrate_upgrade
from app.errors import AppError
from app.forms import service as forms_service
from app.forms.errors import XlsFormInvalidError
from app.governance import consent
from app.netinfo import TabletAddress, tablet_address
from app.projects import onboarding
from app.projects import service as projects_service
from app.runtime import current_runtime
from app.submissions import scrub
from app.system import service as system_service


def _fail(error: AppError) -> None:
    click.echo(f"Error: {error.detail()}", err=True)
    sys.exit(1)


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Lleva la base de datos a la última migración / Migrate to head."""
    migrate_upgrade(current_runtime().settings.database_url)
    click.echo("Base de datos al día / Database at head.")


@click.command("setup")
@click.option("--no-migrate", is_flag=True, help="No ejecutar migraciones.")
@with_appcontext
def setup_command(no_migrate: bool) -> None:
    """Primer arranque: migra, crea el proyecto y el admin / First start."""
    runtime = current_runtime()
    settings = runtime.settings
    if not no_migrate:
        migrate_upgrade(settings.database_url)
    with runtime.db.transaction() as session:
        report = system_service.bootstrap(
            session,
            project_name=settings.default_project_name,
            admin_user=settings.admin_user,
            admin_email=settings.admin_email,
            admin_password=settings.admin_password,
            admin_collect_enabled=settings.app_env != "production",
        )
    if report.project_created:
        click.echo(f"Proyecto por defecto creado (id {report.project_id}).")
    if report.admin_username:
        click.echo(f"Administrador/a creado/a: usuario «{report.admin_username}».")
    if report.admin_password:
        click.echo("")
        click.echo("  *** Anote esta contraseña; no se mostrará otra vez ***")
        click.echo("  *** Write this password down; it is shown only once ***")
        click.echo(f"  usuario / username:   {report.admin_username}")
        click.echo(f"  contraseña / password: {report.admin_password}")
        click.echo("")
    # After the password is shown: a form error must not hide it.
    if settings.load_forms_on_start and settings.forms_dir.is_dir():
        try:
            results = load_forms(runtime)
        except AppError as error:
            _fail(error)
            return
        click.echo("Formularios / Forms:")
        for result in results:
            _echo_publish(result)
    _echo_scrub(scrub_knowledge(runtime))


def scrub_knowledge(runtime) -> scrub.ScrubReport:  # type: ignore[no-untyped-def]
    """Today's intake rules over what is stored, then the unused bytes erased
    (in a second transaction, once no row names them)."""
    with runtime.db.transaction() as session:
        report = scrub.scrub_stored_knowledge(session)
    if report.blob_ids:
        with runtime.db.transaction() as session:
            erase_unused(session, runtime.blobs, report.blob_ids)
    return report


def _echo_scrub(report: scrub.ScrubReport) -> None:
    if report.versions_rewritten:
        click.echo(
            f"Saberes: {report.versions_rewritten} registros reducidos a su registro "
            f"mínimo, {report.files_dropped} archivos borrados / Knowledge: "
            f"{report.versions_rewritten} records reduced to their minimal record, "
            f"{report.files_dropped} files erased."
        )


@click.command("scrub-knowledge")
@with_appcontext
def scrub_knowledge_command() -> None:
    """Aplica las reglas de saberes a lo ya guardado / Re-apply knowledge rules.

    Un registro sagrado, o sin los dos consentimientos, guardado antes de una
    regla más estricta pierde el contenido y los archivos que ya no puede
    guardar; queda su registro mínimo y la bitácora lo dice. `ayni setup`
    (`make run`) lo hace en cada arranque; repetirlo no cambia nada.
    """
    report = scrub_knowledge(current_runtime())
    click.echo(
        f"{report.versions_checked} versiones revisadas / versions checked, "
        f"{report.versions_rewritten} reducidas / reduced, "
        f"{report.files_dropped} archivos borrados / files erased."
    )


def _echo_address_warnings(address: TabletAddress) -> None:
    for es, en in address.warnings:
        click.echo(f"Aviso: {es}", err=True)
        click.echo(f"Warning: {en}", err=True)


@click.command("urls")
@with_appcontext
def urls_command() -> None:
    """Direcciones para ODK Collect / URLs for ODK Collect.

    Las del servidor en marcha (PUBLIC_URL, o las IP de la red local con el
    puerto con que arrancó), aunque esta terminal no tenga su PORT.
    """
    address = tablet_address(current_runtime().settings)
    click.echo("URL del servidor en ODK Collect / Server URL in ODK Collect:")
    for url in address.urls:
        click.echo(f"  {url}")
    _echo_address_warnings(address)


@click.command("create-user")
@click.argument("username")
@click.option("--email", help="Correo; por defecto <usuario>@localhost.")
@click.option("--password", help="Contraseña; se genera si se omite.")
@click.option("--admin", is_flag=True, help="Administrador/a del sitio.")
@click.option("--collect", is_flag=True, help="Puede iniciar sesión en ODK Collect.")
@with_appcontext
def create_user_command(
    username: str, email: str | None, password: str | None, admin: bool, collect: bool
) -> None:
    """Crea un usuario web / Create a web user."""
    try:
        with current_runtime().db.transaction() as session:
            new = accounts.create_user(
                session,
                username=username,
                email=email or f"{username}@localhost",
                password=password,
                collect_enabled=collect,
                admin=admin,
            )
    except AppError as error:
        _fail(error)
        return
    click.echo(f"Usuario creado / User created: {new.user.username}")
    if new.generated:
        click.echo(f"Contraseña / Password: {new.password}")


@click.command("reset-password")
@click.argument("login")
@click.option("--password", help="Nueva contraseña; se genera si se omite.")
@with_appcontext
def reset_password_command(login: str, password: str | None) -> None:
    """Cambia la contraseña de un usuario / Reset a user's password."""
    try:
        with current_runtime().db.transaction() as session:
            new_password = accounts.reset_password(session, login, password)
    except AppError as error:
        _fail(error)
        return
    click.echo("Contraseña cambiada / Password changed.")
    if password is None:
        click.echo(f"Contraseña / Password: {new_password}")


@click.command("list-projects")
@with_appcontext
def list_projects_command() -> None:
    """Lista los proyectos / List projects."""
    with current_runtime().db.read() as session:
        for project in projects_service.list_projects(session):
            default = "  (por defecto / default)" if project.is_default else ""
            click.echo(f"{project.id}\t{project.name}{default}")


def _default_project_id(session) -> int:  # type: ignore[no-untyped-def]
    return projects_service.default_project(session).id


def _echo_publish(result: forms_service.PublishResult) -> None:
    labels = {
        "created": "nuevo / new",
        "new_version": "nueva versión / new version",
        "media_updated": "multimedia actualizada / media updated",
        "unchanged": "sin cambios / unchanged",
    }
    click.echo(
        f"  {result.form.xml_form_id} {result.version.version}: {labels[result.status]}"
    )
    for warning in result.warnings:
        click.echo(f"    aviso / warning: {warning}")


def load_forms(runtime) -> list[forms_service.PublishResult]:  # type: ignore[no-untyped-def]
    """Load the committed forms/ directory into the default project."""
    with runtime.db.transaction() as session:
        return forms_service.sync_forms_dir(
            session,
            runtime.blobs,
            project_id=_default_project_id(session),
            forms_dir=runtime.settings.forms_dir,
        )


@click.command("load-forms")
@with_appcontext
def load_forms_command() -> None:
    """Carga forms/ en el proyecto por defecto / Load forms/ into it."""
    try:
        results = load_forms(current_runtime())
    except AppError as error:
        _fail(error)
        return
    click.echo("Formularios / Forms:")
    for result in results:
        _echo_publish(result)


@click.command("compile-forms")
@click.option("--check", is_flag=True, help="Solo verificar que forms/ está al día.")
@with_appcontext
def compile_forms_command(check: bool) -> None:
    """Compila xlsforms/ en forms/ / Compile xlsforms/ into forms/."""
    settings = current_runtime().settings
    xlsforms_dir = settings.forms_dir.parent / "xlsforms"
    try:
        if check:
            stale = forms_service.stale_compiled_forms(xlsforms_dir, settings.forms_dir)
            if stale:
                click.echo(
                    "forms/ desactualizado / stale: " + ", ".join(stale), err=True
                )
                sys.exit(1)
            click.echo("forms/ al día / up to date.")
            return
        for path in forms_service.write_compiled_forms(
            xlsforms_dir, settings.forms_dir
        ):
            click.echo(f"  {path.relative_to(settings.forms_dir.parent)}")
    except XlsFormInvalidError as error:
        _echo_xlsform_error(error)
        sys.exit(1)


def _echo_xlsform_error(error: XlsFormInvalidError) -> None:
    click.echo(f"Error: {error.detail()}", err=True)
    for message in getattr(error, "errors", []) or []:
        click.echo(f"  - {message}", err=True)
    for warning in getattr(error, "warnings", []) or []:
        click.echo(f"  aviso / warning: {warning}", err=True)


@click.command("upload-form")
@click.argument("xlsform", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", "project_id", type=int, help="Id del proyecto.")
@click.option("--media", "media_dir", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def upload_form_command(
    xlsform: Path, project_id: int | None, media_dir: Path | None
) -> None:
    """Compila y publica un XLSForm / Compile and publish an XLSForm."""
    from app.forms.compiler import compile_xlsform

    data = xlsform.read_bytes()
    try:
        compiled = compile_xlsform(data, filename=xlsform.name)
    except XlsFormInvalidError as error:
        _echo_xlsform_error(error)
        sys.exit(1)
    runtime = current_runtime()
    media = forms_service.read_media_dir(media_dir) if media_dir else {}
    try:
        with runtime.db.transaction() as session:
            pid = project_id or _default_project_id(session)
            result = forms_service.publish_form(
                session,
                runtime.blobs,
                project_id=pid,
                compiled=compiled,
                xlsform=data,
                media=media,
            )
    except AppError as error:
        _fail(error)
        return
    _echo_publish(result)


@click.command("create-app-user")
@click.argument("display_name")
@click.option("--project", "project_id", type=int, help="Id del proyecto.")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Carpeta de los QR; por defecto <instance>/qr / QR folder.",
)
@click.option(
    "--server-url",
    help=(
        "URL base que ven las tabletas (p. ej. http://192.168.1.10:8000); por "
        "defecto la del servidor en marcha / the running server's."
    ),
)
@with_appcontext
def create_app_user_command(
    display_name: str,
    project_id: int | None,
    out_dir: Path | None,
    server_url: str | None,
) -> None:
    """Crea una tableta (app user) y su código QR / Create a tablet and its QR."""
    runtime = current_runtime()
    settings = runtime.settings
    with runtime.db.transaction() as session:
        project = (
            projects_service.get_project(session, project_id)
            if project_id
            else projects_service.default_project(session)
        )
        app_user = app_users.create_app_user(
            session, project_id=project.id, display_name=display_name
        )
        token, pid, project_name = app_user.token, project.id, project.name
    address = tablet_address(settings, server_url=server_url)
    url = onboarding.app_user_server_url(address.urls[0], token, pid)
    payload = onboarding.qr_payload(onboarding.collect_settings(url, project_name))
    stem = f"tableta-{app_user.id}"
    # The QR carries the tablet's token: by default it goes into the private
    # instance directory Ayni runs with, not an `instance/` under whatever
    # directory the command happens to be run from.
    out_dir = out_dir or settings.instance_dir / "qr"
    png, svg = onboarding.write_qr_files(payload, out_dir, stem)
    click.echo(f"Tableta creada / Tablet created: {display_name} (id {app_user.id})")
    click.echo(f"Token: {token}")
    click.echo(f"URL del servidor / Server URL: {url}")
    click.echo("Escanee con ODK Collect: Configurar proyecto > Escanear código QR")
    click.echo("Scan in ODK Collect: Add project > Scan QR code")
    click.echo(onboarding.qr_terminal(payload))
    click.echo(f"QR: {png}  {svg}")
    _echo_address_warnings(address)


def _actor_named(session, login: str):  # type: ignore[no-untyped-def]
    from app.auth.actors import actor_for_user

    return actor_for_user(session, accounts.get_user(session, login))


def _date_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    """`--since`/`--until` as the API reads them (`app.datebounds`): a bad or
    out-of-range date is a usage error with the bilingual message."""
    if not value:
        return None
    try:
        return parse_instant(value, f"--{param.name}")
    except DateBoundError as error:
        raise click.BadParameter(error.detail(), ctx=ctx, param=param) from None


@click.command("export")
@click.argument("xml_form_id")
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["csv.zip", "csv", "xlsx", "geojson", "jsonl"]),
    default="csv.zip",
    show_default=True,
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as", "login", default=None, help="Usuario cuyos permisos se aplican.")
@click.option("--project", "project_id", type=int)
@click.option(
    "--labels", type=click.Choice(["es", "en"]), help="Opciones como etiquetas."
)
@click.option(
    "--headers", type=click.Choice(["es", "en"]), help="Encabezados como etiquetas."
)
@click.option("--since", callback=_date_option, help="Desde (AAAA-MM-DD).")
@click.option("--until", callback=_date_option, help="Hasta, sin incluir (AAAA-MM-DD).")
@click.option("--review-state", "review_states", multiple=True)
@click.option("--ayllu")
@click.option("--mesa")
@click.option("--no-media", is_flag=True, help="CSV zip sin la carpeta media/.")
@with_appcontext
def export_command(
    xml_form_id: str,
    export_format: str,
    out: Path,
    login: str | None,
    project_id: int | None,
    labels: str | None,
    headers: str | None,
    since: datetime | None,
    until: datetime | None,
    review_states: tuple[str, ...],
    ayllu: str | None,
    mesa: str | None,
    no_media: bool,
) -> None:
    """Exporta los envíos de un formulario a un archivo / Export to a file.

    Knowledge governance applies as for the user given with --as (default: the
    first admin): restricted practices need that user's guardian role.
    """
    from app.exports import service as exports_service
    from app.governance.records import RecordFilter

    runtime = current_runtime()
    options = exports_service.ExportOptions(
        format=export_format,
        filters=RecordFilter(
            since=since,
            until=until,
            review_states=review_states,
            ayllu=ayllu,
            mesa=mesa,
        ),
        labels_lang=labels,
        header_lang=headers,
        attachments=export_format == "csv.zip" and not no_media,
    )
    try:
        with runtime.db.transaction() as session:
            pid = project_id or _default_project_id(session)
            actor = _actor_named(session, login or runtime.settings.admin_user)
            plan = exports_service.plan_export(
                session,
                project_id=pid,
                xml_form_id=xml_form_id,
                actor=actor,
                options=options,
            )
            exports_service.record_export(session, plan)
    except AppError as error:
        _fail(error)
        return
    size = 0
    # An export holds the project's data: only Ayni's user may read the file.
    private_file(out)
    with runtime.db.read() as session, out.open("wb") as fh:
        for chunk in exports_service.export_chunks(session, runtime.blobs, plan):
            fh.write(chunk)
            size += len(chunk)
    click.echo(f"{out} ({size} bytes)")


@click.command("aggregate")
@click.argument("name")
@click.option(
    "--format", "out_format", type=click.Choice(["json", "csv"]), default="json"
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "login", default=None, help="Usuario cuyos permisos se aplican.")
@click.option("--project", "project_id", type=int)
@click.option("--since", callback=_date_option, help="Desde (AAAA-MM-DD).")
@click.option("--until", callback=_date_option, help="Hasta, sin incluir (AAAA-MM-DD).")
@click.option("--ayllu")
@click.option("--mesa")
@with_appcontext
def aggregate_command(
    name: str,
    out_format: str,
    out: Path | None,
    login: str | None,
    project_id: int | None,
    since: datetime | None,
    until: datetime | None,
    ayllu: str | None,
    mesa: str | None,
) -> None:
    """Cifras de planificación / Planning figures (necesidades, practicas, ...)."""
    import json

    from app.aggregates import service as aggregates_service
    from app.governance.visibility import Viewer

    if name not in aggregates_service.AGGREGATES:
        names = ", ".join(sorted(aggregates_service.AGGREGATES))
        click.echo(
            f"Error: agregado desconocido / unknown aggregate. ({names})", err=True
        )
        sys.exit(2)
    runtime = current_runtime()
    try:
        with runtime.db.read() as session:
            pid = project_id or _default_project_id(session)
            actor = _actor_named(session, login or runtime.settings.admin_user)
            permissions.require(actor, "submission.list", permissions.Project(pid))
            result = aggregates_service.AGGREGATES[name](
                session,
                pid,
                Viewer(actor=actor, project_id=pid),
                since=since,
                until=until,
                ayllu=ayllu,
                mesa=mesa,
            )
    except AppError as error:
        _fail(error)
        return
    if out_format == "json":
        text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    else:
        text = aggregates_service.to_csv_text(name, result)
    if out:
        private_file(out)
        out.write_text(text, encoding="utf-8")
        click.echo(str(out))
    else:
        click.echo(text)


@click.command("withdraw-consent")
@click.option(
    "--as", "login", required=True, help="Quién lo registra / Who records it."
)
@click.option("--reason", required=True, help="Motivo (queda en la auditoría).")
@click.option("--instance-id", help="Retiro individual: el instanceID del registro.")
@click.option("--form", "xml_form_id", default="practica_saber", show_default=True)
@click.option("--ayllu", help="Retiro colectivo: el ayllu (nombre de la opción).")
@click.option("--project", "project_id", type=int)
@with_appcontext
def withdraw_consent_command(
    login: str,
    reason: str,
    instance_id: str | None,
    xml_form_id: str,
    ayllu: str | None,
    project_id: int | None,
) -> None:
    """Registra un retiro de consentimiento / Record a consent withdrawal.

    Con --instance-id, el de un registro (capa individual); con --ayllu, el de
    las autoridades del ayllu (capa colectiva). Los registros dejan de verse al
    instante en la consola, las exportaciones y los agregados.
    """
    if (instance_id is None) == (ayllu is None):
        raise click.UsageError("Use --instance-id o --ayllu (uno de los dos).")
    try:
        with current_runtime().db.transaction() as session:
            pid = project_id or _default_project_id(session)
            actor = _actor_named(session, login)
            submission_id = None
            if instance_id is not None:
                submission_id = consent.find_governed_submission(
                    session, pid, xml_form_id, instance_id
                ).submission_id
            withdrawal = consent.withdraw_consent(
                session,
                actor,
                project_id=pid,
                layer="individual" if instance_id is not None else "colectivo",
                submission_id=submission_id,
                ayllu=ayllu,
                reason=reason,
            )
            withdrawal_id = withdrawal.id
    except AppError as error:
        _fail(error)
        return
    click.echo(
        f"Retiro {withdrawal_id} registrado / Withdrawal {withdrawal_id} recorded."
    )


@click.command("lift-withdrawal")
@click.argument("withdrawal_id", type=int)
@click.option("--as", "login", required=True, help="Quién lo levanta / Who lifts it.")
@click.option(
    "--reason", required=True, help="Motivo (consentimiento otorgado de nuevo)."
)
@click.option("--project", "project_id", type=int)
@with_appcontext
def lift_withdrawal_command(
    withdrawal_id: int, login: str, reason: str, project_id: int | None
) -> None:
    """Levanta un retiro de consentimiento / Lift a consent withdrawal."""
    try:
        with current_runtime().db.transaction() as session:
            pid = project_id or _default_project_id(session)
            consent.lift_withdrawal(
                session, _actor_named(session, login), pid, withdrawal_id, reason
            )
    except AppError as error:
        _fail(error)
        return
    click.echo(f"Retiro {withdrawal_id} levantado / Withdrawal {withdrawal_id} lifted.")


@click.command("list-withdrawals")
@click.option("--project", "project_id", type=int)
@with_appcontext
def list_withdrawals_command(project_id: int | None) -> None:
    """Historial de retiros de consentimiento / Consent withdrawal history."""
    with current_runtime().db.read() as session:
        pid = project_id or _default_project_id(session)
        history = consent.withdrawal_history(session, pid)
    for entry in history:
        target = (
            f"{entry.xml_form_id} {entry.instance_id}"
            if entry.layer == "individual"
            else f"ayllu {entry.ayllu}"
        )
        state = (
            f"levantado / lifted {entry.lifted_at:%Y-%m-%d} ({entry.lifted_by})"
            if entry.lifted_at
            else "vigente / in force"
        )
        click.echo(
            f"{entry.id}\t{entry.layer}\t{target}\t{entry.created_at:%Y-%m-%d}"
            f"\t{entry.recorded_by}\t{state}\t{entry.reason}"
        )


COMMANDS = [
    scrub_knowledge_command,
    export_command,
    aggregate_command,
    load_forms_command,
    compile_forms_command,
    upload_form_command,
    create_app_user_command,
    migrate_command,
    setup_command,
    urls_command,
    create_user_command,
    reset_password_command,
    list_projects_command,
    withdraw_consent_command,
    lift_withdrawal_command,
    list_withdrawals_command,
]


def register_cli(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
