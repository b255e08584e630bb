"""Every text of the web console: key -> (Spanish, English).

Spanish is the console's language; English is the switch. Texts take
`{named}` parameters (str.format). Keep the pair on one entry so reviewers
from the CdP can read both at once. No Uru-Chipaya until the GAIOC supplies
approved translations (domain.md §7).
"""

from __future__ import annotations

CATALOGUE: dict[str, tuple[str, str]] = {
    # --- layout --------------------------------------------------------------
    "brand.tagline": ("CdP Chipaya", "CdP Chipaya"),
    "nav.skip": ("Saltar al contenido", "Skip to content"),
    "nav.main": ("Navegación principal", "Main navigation"),
    "nav.language": ("Idioma", "Language"),
    "nav.projects": ("Proyectos", "Projects"),
    "nav.users": ("Usuarios", "Users"),
    "nav.audit": ("Auditoría", "Audit log"),
    "nav.password": ("Cambiar contraseña", "Change password"),
    "nav.logout": ("Cerrar sesión", "Sign out"),
    "nav.project": ("Proyecto {name}", "Project {name}"),
    "nav.forms": ("Formularios", "Forms"),
    "nav.tablets": ("Tabletas", "Tablets"),
    "nav.exports": ("Exportar datos", "Export data"),
    "nav.dashboard": ("Panel de planificación", "Planning dashboard"),
    "nav.consent": ("Consentimientos", "Consent"),
    "footer.text": (
        "Ayni · Comunidades de Práctica de la Nación Originaria Uru Chipaya. "
        "Funciona sin internet: todo se sirve desde esta computadora.",
        "Ayni · Communities of Practice of the Uru Chipaya Nation. "
        "Works without internet: everything is served from this computer.",
    ),
    "common.never": ("nunca", "never"),
    "common.yes": ("Sí", "Yes"),
    "common.no": ("No", "No"),
    # --- errors --------------------------------------------------------------
    "error.title.400": ("La solicitud no es válida", "Bad request"),
    "error.title.401": ("Inicie sesión", "Please sign in"),
    "error.title.403": ("Sin permiso", "Not allowed"),
    "error.title.404": ("No encontrado", "Not found"),
    "error.title.405": ("Acción no permitida", "Method not allowed"),
    "error.title.409": ("Conflicto", "Conflict"),
    "error.title.413": ("Archivo demasiado grande", "File too large"),
    "error.title.429": ("Demasiados intentos", "Too many attempts"),
    "error.title.other": ("Algo salió mal", "Something went wrong"),
    "error.code": ("Código de error: {status}", "Error code: {status}"),
    "error.home": ("Volver al inicio", "Back to the start page"),
    "error.csrf": (
        "El formulario caducó o no es válido. Vuelva a cargar la página e "
        "intente de nuevo.",
        "The form expired or is not valid. Reload the page and try again.",
    ),
    # --- sign-in -------------------------------------------------------------
    "login.title": ("Iniciar sesión", "Sign in"),
    "login.intro": (
        "Consola de la coordinación y de los técnicos municipales.",
        "Console for the coordination and municipal technicians.",
    ),
    "login.user": ("Usuario o correo", "Username or e-mail"),
    "login.password": ("Contraseña", "Password"),
    "login.submit": ("Entrar", "Sign in"),
    "login.help": (
        "¿Olvidó su contraseña? Pida a la administración del sitio que la restablezca.",
        "Forgot your password? Ask the site administration to reset it.",
    ),
    "auth.login_required": (
        "Inicie sesión para ver esta página.",
        "Please sign in to see this page.",
    ),
    "auth.failed": (
        "Usuario o contraseña incorrectos.",
        "Wrong username or password.",
    ),
    "auth.throttled": (
        "Demasiados intentos fallidos. Espere {seconds} segundos e intente de nuevo.",
        "Too many failed attempts. Wait {seconds} seconds and try again.",
    ),
    "auth.throttled_short": (
        "Demasiados intentos fallidos. Espere un momento e intente de nuevo.",
        "Too many failed attempts. Wait a moment and try again.",
    ),
    "auth.logged_out": ("Sesión cerrada.", "You are signed out."),
    "password.title": ("Cambiar contraseña", "Change password"),
    "password.current": ("Contraseña actual", "Current password"),
    "password.new": ("Nueva contraseña", "New password"),
    "password.repeat": ("Repita la nueva contraseña", "Repeat the new password"),
    "password.rule": (
        "Al menos 10 caracteres, sin tildes ni eñes.",
        "At least 10 characters, plain ASCII.",
    ),
    "password.submit": ("Guardar la contraseña", "Save the password"),
    "password.wrong_current": (
        "La contraseña actual no es correcta.",
        "The current password is not correct.",
    ),
    "password.mismatch": (
        "Las dos contraseñas nuevas no coinciden.",
        "The two new passwords do not match.",
    ),
    "password.changed": (
        "Contraseña cambiada. Las otras sesiones abiertas con su usuario se cerraron.",
        "Password changed. Your other open sessions were signed out.",
    ),
    # --- projects and forms -----------------------------------------------------
    "projects.title": ("Proyectos", "Projects"),
    "projects.lead": (
        "Elija un proyecto para ver sus formularios, tabletas y datos.",
        "Choose a project to see its forms, tablets and data.",
    ),
    "projects.name": ("Proyecto", "Project"),
    "projects.forms": ("Formularios", "Forms"),
    "projects.open_forms": ("{n} abiertos", "{n} open"),
    "projects.submissions": ("Envíos", "Submissions"),
    "projects.last": ("Último envío", "Last submission"),
    "projects.none": (
        "Todavía no tiene un rol en ningún proyecto. Pida a la administración "
        "del sitio que le asigne uno.",
        "You have no role in any project yet. Ask the site administration to "
        "give you one.",
    ),
    "projects.none_admin": (
        "No hay proyectos. Ejecute «ayni setup» para crear el proyecto inicial.",
        "There are no projects. Run 'ayni setup' to create the first one.",
    ),
    "forms.title": ("Formularios", "Forms"),
    "forms.form": ("Formulario", "Form"),
    "forms.state": ("Estado", "State"),
    "forms.version": ("Versión", "Version"),
    "forms.id": ("Identificador", "Form ID"),
    "forms.submissions": ("Envíos", "Submissions"),
    "forms.last": ("Último envío", "Last submission"),
    "forms.actions": ("Acciones", "Actions"),
    "forms.see_submissions": ("Ver envíos", "See submissions"),
    "forms.governed": ("Saberes: acceso protegido", "Knowledge: protected access"),
    "forms.none": (
        "Este proyecto todavía no tiene formularios.",
        "This project has no forms yet.",
    ),
    "state.open": ("Abierto", "Open"),
    "state.closing": ("Cerrándose", "Closing"),
    "state.closed": ("Cerrado", "Closed"),
    "state_help.open": (
        "las tabletas lo descargan y envían datos",
        "tablets download it and send data",
    ),
    "state_help.closing": (
        "ya no se ofrece a las tabletas, pero acepta los envíos pendientes",
        "no longer offered to tablets, but accepts pending submissions",
    ),
    "state_help.closed": (
        "no se ofrece y no acepta envíos",
        "not offered, accepts no submissions",
    ),
    "form.published": ("Versión publicada el {when}.", "Version published on {when}."),
    "form.state_title": ("Estado del formulario", "Form state"),
    "form.state_help": (
        "Cierre un formulario cuando termine la campaña de recolección.",
        "Close a form when the data collection round is over.",
    ),
    "form.state_submit": ("Cambiar el estado", "Change the state"),
    "form.state_changed": (
        "Estado del formulario: {state}.",
        "Form state: {state}.",
    ),
    "upload.title": ("Subir un formulario nuevo", "Upload a new form"),
    "upload.new_version": ("Publicar una versión nueva", "Publish a new version"),
    "upload.label": ("Archivo XLSForm", "XLSForm file"),
    "upload.hint": (
        "Un libro de Excel (.xlsx) con las hojas survey, choices y settings.",
        "An Excel workbook (.xlsx) with the survey, choices and settings sheets.",
    ),
    "upload.hint_version": (
        "El mismo formulario (igual form_id) con otra «version» en la hoja "
        "settings, por ejemplo la fecha de hoy.",
        "The same form (same form_id) with another 'version' in the settings "
        "sheet, for example today's date.",
    ),
    "upload.submit": ("Subir y publicar", "Upload and publish"),
    "upload.submit_version": ("Publicar la versión", "Publish the version"),
    "upload.refused": (
        "No se pudo publicar el formulario:",
        "The form could not be published:",
    ),
    "upload.no_file": ("Elija un archivo.", "Choose a file."),
    "upload.too_big": (
        "El archivo es demasiado grande para un XLSForm.",
        "The file is too large for an XLSForm.",
    ),
    "upload.other_form": (
        "El archivo es del formulario «{found}», no de «{expected}».",
        "The file is for form '{found}', not '{expected}'.",
    ),
    "upload.status.created": (
        "Formulario «{title}» publicado (versión {version}).",
        "Form '{title}' published (version {version}).",
    ),
    "upload.status.new_version": (
        "Nueva versión {version} de «{title}» publicada.",
        "New version {version} of '{title}' published.",
    ),
    "upload.status.media_updated": (
        "«{title}» no cambió; se actualizaron sus archivos multimedia.",
        "'{title}' did not change; its media files were updated.",
    ),
    "upload.status.unchanged": (
        "«{title}» (versión {version}) ya estaba publicado tal cual: no cambió nada.",
        "'{title}' (version {version}) was already published as is: nothing changed.",
    ),
    "media.title": ("Archivos multimedia del formulario", "Form media files"),
    "media.none": (
        "Este formulario no tiene archivos multimedia.",
        "This form has no media files.",
    ),
    "media.missing": (
        "El formulario usa archivos que todavía no se subieron:",
        "The form uses files that were not uploaded yet:",
    ),
    "media.label": ("Archivos (imágenes, audio, CSV)", "Files (images, audio, CSV)"),
    "media.hint": (
        "Un archivo con el mismo nombre reemplaza al anterior. Las tabletas los "
        "reciben al actualizar el formulario.",
        "A file with the same name replaces the old one. Tablets get them when "
        "they update the form.",
    ),
    "media.submit": ("Subir archivos", "Upload files"),
    "media.saved": ("Archivos guardados: {names}.", "Files saved: {names}."),
    "media.not_received": ("archivo no recibido todavía", "file not received yet"),
    "media.photo_alt": ("{label}: foto {name}", "{label}: photo {name}"),
    "preview.title": ("Preguntas del formulario", "The form's questions"),
    "preview.hint": (
        "Vista de lectura de las preguntas, en el orden del formulario. Idiomas "
        "del formulario: {languages}.",
        "Read-only view of the questions, in form order. Form languages: {languages}.",
    ),
    "preview.required": ("obligatoria", "required"),
    "preview.unlabelled": (
        "Dato automático o cálculo (la tableta no lo pregunta)",
        "Automatic value or calculation (not asked on the tablet)",
    ),
    "preview.conditional": ("condicional", "conditional"),
    "type.string": ("Texto", "Text"),
    "type.int": ("Número entero", "Whole number"),
    "type.decimal": ("Número decimal", "Decimal number"),
    "type.date": ("Fecha", "Date"),
    "type.dateTime": ("Fecha y hora", "Date and time"),
    "type.time": ("Hora", "Time"),
    "type.select1": ("Selección única", "Select one"),
    "type.select": ("Selección múltiple", "Select multiple"),
    "type.rank": ("Ordenar opciones", "Rank"),
    "type.geopoint": ("Punto GPS", "GPS point"),
    "type.geotrace": ("Línea GPS", "GPS line"),
    "type.geoshape": ("Área GPS", "GPS area"),
    "type.barcode": ("Código de barras", "Barcode"),
    "type.boolean": ("Sí / no", "Yes / no"),
    "type.calculate": ("Cálculo", "Calculation"),
    "type.group": ("Grupo", "Group"),
    "type.repeat": ("Repetición", "Repeat"),
    "type.binary.image": ("Foto", "Photo"),
    "type.binary.audio": ("Audio", "Audio"),
    "type.binary.video": ("Video", "Video"),
    "type.binary.file": ("Archivo", "File"),
    # --- tablets ---------------------------------------------------------------
    # --- consent withdrawals --------------------------------------------------
    "consent.title": ("Retiros de consentimiento", "Consent withdrawals"),
    "consent.lead": (
        "Cuando una portadora o un portador de saberes, o las autoridades de un "
        "ayllu, retiran su consentimiento, regístrelo aquí: los registros que "
        "cubre dejan de verse al instante en la consola, las exportaciones y los "
        "agregados. Nada se borra; el historial dice quién, cuándo y por qué.",
        "When a knowledge holder, or an ayllu's authorities, withdraw consent, "
        "record it here: the records it covers disappear at once from the "
        "console, exports and figures. Nothing is deleted; the history says who, "
        "when and why.",
    ),
    "consent.individual": (
        "Retiro individual (una práctica)",
        "Individual withdrawal (one practice)",
    ),
    "consent.individual_hint": (
        "El ID de instancia está en la tableta y en la lista de envíos (uuid:…).",
        "The instance ID is on the tablet and in the submissions list (uuid:…).",
    ),
    "consent.collective": (
        "Retiro colectivo (todo un ayllu)",
        "Collective withdrawal (a whole ayllu)",
    ),
    "consent.form": ("Formulario", "Form"),
    "consent.instance": ("ID de instancia", "Instance ID"),
    "consent.ayllu": ("Ayllu", "Ayllu"),
    "consent.reason": ("Motivo", "Reason"),
    "consent.reason_hint": (
        "Queda en el registro de auditoría: por ejemplo, el acta de la asamblea.",
        "It goes into the audit trail: for example, the assembly's minutes.",
    ),
    "consent.withdraw": ("Registrar el retiro", "Record the withdrawal"),
    "consent.withdraw_confirm": (
        "¿Registrar el retiro? Los registros dejarán de verse al instante.",
        "Record the withdrawal? The records will disappear at once.",
    ),
    "consent.withdrawn": (
        "Retiro registrado: esos registros ya no se ven en ninguna parte.",
        "Withdrawal recorded: those records are no longer shown anywhere.",
    ),
    "consent.no_forms": (
        "Este proyecto no tiene formularios de saberes con consentimiento.",
        "This project has no knowledge forms with consent.",
    ),
    "consent.history": ("Historial", "History"),
    "consent.none": ("No hay retiros registrados.", "No withdrawals recorded."),
    "consent.layer": ("Capa", "Layer"),
    "consent.layer.individual": ("Individual", "Individual"),
    "consent.layer.colectivo": ("Colectivo", "Collective"),
    "consent.target": ("Qué cubre", "What it covers"),
    "consent.recorded": ("Registrado", "Recorded"),
    "consent.status": ("Estado", "Status"),
    "consent.active": ("Vigente", "In force"),
    "consent.lifted_on": (
        "Levantado el {when} por {who}: {why}",
        "Lifted on {when} by {who}: {why}",
    ),
    "consent.lift": ("Levantar el retiro", "Lift the withdrawal"),
    "consent.lift_reason": (
        "Motivo (consentimiento otorgado de nuevo)",
        "Reason (consent granted again)",
    ),
    "consent.lifted": (
        "Retiro levantado: los registros vuelven a verse según su nivel de acceso.",
        "Withdrawal lifted: the records are shown again by their access level.",
    ),
    "consent.who": ("{who} · {when}", "{who} · {when}"),
    "submission.withdraw_link": (
        "Registrar un retiro de consentimiento de este registro",
        "Record a consent withdrawal for this record",
    ),
    "tablets.title": ("Tabletas", "Tablets"),
    "tablets.lead": (
        "Cada tableta con ODK Collect tiene su propio acceso. Revóquelo si la "
        "tableta se pierde o deja de usarse.",
        "Each tablet running ODK Collect has its own access. Revoke it if the "
        "tablet is lost or no longer used.",
    ),
    "tablets.new": ("Agregar una tableta", "Add a tablet"),
    "tablets.name": ("Nombre de la tableta", "Tablet name"),
    "tablets.name_hint": (
        "Por ejemplo «Tableta 3 – Ayllu Manasaya» o el nombre de quien la usa.",
        "For example 'Tablet 3 – Ayllu Manasaya' or the name of who uses it.",
    ),
    "tablets.create": ("Crear y mostrar el código QR", "Create and show the QR code"),
    "tablets.created": ("Tableta «{name}» creada.", "Tablet '{name}' created."),
    "tablets.name_required": (
        "Escriba un nombre para la tableta.",
        "Write a name for the tablet.",
    ),
    "tablets.created_at": ("Creada", "Created"),
    "tablets.status": ("Estado", "Status"),
    "tablets.active": ("Activa", "Active"),
    "tablets.revoked_on": ("Revocada el {when}", "Revoked on {when}"),
    "tablets.show_qr": ("Ver código QR", "Show QR code"),
    "tablets.revoke": ("Revocar", "Revoke"),
    "tablets.revoke_confirm": (
        "¿Revocar el acceso de «{name}»? La tableta ya no podrá enviar datos.",
        "Revoke access for '{name}'? The tablet will no longer be able to send data.",
    ),
    "tablets.revoked": (
        "Acceso revocado. Esa tableta ya no puede enviar ni descargar formularios.",
        "Access revoked. That tablet can no longer send data or download forms.",
    ),
    "tablets.none": ("Todavía no hay tabletas.", "No tablets yet."),
    "tablet.title": (
        "Configurar «{name}» en ODK Collect",
        "Set up '{name}' in ODK Collect",
    ),
    "tablet.revoked": (
        "El acceso de esta tableta fue revocado: su código QR ya no sirve.",
        "This tablet's access was revoked: its QR code no longer works.",
    ),
    "tablet.steps_title": ("Cómo escanear el código", "How to scan the code"),
    "tablet.step1": (
        "Conecte la tableta a la misma red Wi-Fi que esta computadora.",
        "Connect the tablet to the same Wi-Fi network as this computer.",
    ),
    "tablet.step2": (
        "Abra ODK Collect. Si es la primera vez, toque «Configurar con código QR». "
        "Si ya tiene otro proyecto, toque el ícono del proyecto (arriba a la "
        "derecha), luego «Agregar proyecto» y «Configurar con código QR».",
        "Open ODK Collect. The first time, tap 'Configure with QR code'. If it "
        "already has a project, tap the project icon (top right), then 'Add "
        "project' and 'Configure with QR code'.",
    ),
    "tablet.step3": (
        "Apunte la cámara a este código. Collect crea el proyecto «{project}» "
        "conectado a este servidor.",
        "Point the camera at this code. Collect creates the project '{project}' "
        "connected to this server.",
    ),
    "tablet.step4": (
        "Toque «Descargar formulario» y elija los formularios que usará.",
        "Tap 'Download form' and choose the forms you will use.",
    ),
    "tablet.step5": (
        "Llene un formulario de prueba y envíelo: debe aparecer en «Ver envíos».",
        "Fill in a test form and send it: it should appear under 'See submissions'.",
    ),
    "tablet.secret": (
        "Este código da acceso al proyecto: no lo comparta ni lo fotografíe para "
        "otros fines. Si se filtra, revoque la tableta y cree otra.",
        "This code gives access to the project: do not share it or photograph it "
        "for other uses. If it leaks, revoke the tablet and create another.",
    ),
    "tablet.address": (
        "Dirección del servidor para las tabletas",
        "Server address for the tablets",
    ),
    "tablet.address_submit": ("Usar esta dirección", "Use this address"),
    "tablet.address_hint": (
        "Elija la dirección de esta computadora en la red Wi-Fi de las tabletas.",
        "Choose this computer's address on the tablets' Wi-Fi network.",
    ),
    "tablet.manual": ("Configurar sin cámara", "Set up without a camera"),
    "tablet.manual_help": (
        "En Collect, «Configuración del servidor» → «URL del servidor», escriba:",
        "In Collect, 'Server settings' → 'Server URL', type:",
    ),
    "tablet.qr_alt": (
        "Código QR de configuración de ODK Collect para {name}",
        "ODK Collect settings QR code for {name}",
    ),
    "tablet.print": (
        "Puede imprimir esta página para configurar la tableta más tarde.",
        "You may print this page to set up the tablet later.",
    ),
    # --- submissions -------------------------------------------------------------
    "submissions.title": ("Envíos de «{form}»", "Submissions of '{form}'"),
    "submissions.caption": ("Envíos de {form}", "Submissions of {form}"),
    "submissions.filters": ("Filtros de envíos", "Submission filters"),
    "submissions.count": ("{n} envíos.", "{n} submissions."),
    "submissions.restricted": (
        "Además hay {n} registros de acceso restringido que solo se cuentan.",
        "There are also {n} restricted records, counted only.",
    ),
    "submissions.none": (
        "No hay envíos con estos filtros.",
        "No submissions match these filters.",
    ),
    "submissions.record": ("Registro", "Record"),
    "submissions.received": ("Recibido", "Received"),
    "submissions.submitter": ("Enviado por", "Sent by"),
    "submissions.state": ("Revisión", "Review"),
    "submissions.files": ("Archivos", "Files"),
    "submissions.edits": ("Ediciones", "Edits"),
    "submissions.tablet": ("tableta", "tablet"),
    "filters.since": ("Desde", "From"),
    "filters.until": ("Hasta", "To"),
    "filters.ayllu": ("Ayllu", "Ayllu"),
    "filters.mesa": ("Mesa", "Mesa"),
    "filters.state": ("Estado de revisión", "Review state"),
    "filters.submitter": ("Enviado por", "Sent by"),
    "filters.all": ("Todos", "All"),
    "filters.apply": ("Filtrar", "Filter"),
    "filters.clear": ("Quitar filtros", "Clear filters"),
    "pager.label": ("Páginas", "Pages"),
    "pager.prev": ("‹ Anterior", "‹ Previous"),
    "pager.next": ("Siguiente ›", "Next ›"),
    "pager.position": ("Página {page} de {pages}", "Page {page} of {pages}"),
    "review.received": ("Recibido", "Received"),
    "review.hasIssues": ("Con problemas", "Has issues"),
    "review.edited": ("Editado", "Edited"),
    "review.approved": ("Aprobado", "Approved"),
    "review.rejected": ("Rechazado", "Rejected"),
    "review.title": ("Revisión y comentarios", "Review and comments"),
    "review.state_legend": ("Estado de revisión", "Review state"),
    "review.comment": ("Comentario (opcional)", "Comment (optional)"),
    "review.submit": ("Guardar la revisión", "Save the review"),
    "review.no_comments": ("Sin comentarios todavía.", "No comments yet."),
    "review.saved": ("Revisión guardada: {state}.", "Review saved: {state}."),
    "review.commented": ("Comentario agregado.", "Comment added."),
    "review.unchanged": (
        "No cambió nada: elija otro estado o escriba un comentario.",
        "Nothing changed: choose another state or write a comment.",
    ),
    "submission.ids": (
        "ID de instancia {instance} · versión del formulario {version}",
        "Instance ID {instance} · form version {version}",
    ),
    "submission.device": ("dispositivo {device}", "device {device}"),
    "submission.access": ("Nivel de acceso: {level}", "Access level: {level}"),
    "submission.answers": ("Respuestas", "Answers"),
    "submission.no_answers": (
        "Este envío no tiene respuestas.",
        "This submission has no answers.",
    ),
    "answers.entries": ("{n} registros", "{n} entries"),
    "level.publico": ("Público", "Public"),
    "level.comunitario": ("Comunitario", "Community"),
    "level.restringido": ("Restringido", "Restricted"),
    "level.sagrado": ("Sagrado", "Sacred"),
    "history.title": ("Historial de ediciones", "Edit history"),
    "history.current": ("versión actual", "current version"),
    "history.form_version": ("formulario v{version}", "form v{version}"),
    "history.first": ("Primer envío.", "First submission."),
    "history.hidden": (
        "El contenido de esta versión no está disponible para usted.",
        "The content of this version is not available to you.",
    ),
    "history.no_changes": (
        "Sin cambios en las respuestas.",
        "No changes in the answers.",
    ),
    "history.field": ("Pregunta", "Question"),
    "history.before": ("Antes", "Before"),
    "history.after": ("Después", "After"),
    "map.title": ("Mapa: {label}", "Map: {label}"),
    "map.desc": (
        "Latitud {lat}, longitud {lon}, precisión {accuracy} m.",
        "Latitude {lat}, longitude {lon}, accuracy {accuracy} m.",
    ),
    "map.landmark": ("Santa Ana de Chipaya", "Santa Ana de Chipaya"),
    "map.from_landmark": (
        "A {distance} al {direction} de Santa Ana de Chipaya.",
        "{distance} {direction} of Santa Ana de Chipaya.",
    ),
    "map.at_landmark": ("En Santa Ana de Chipaya.", "At Santa Ana de Chipaya."),
    "compass.n": ("norte", "north"),
    "compass.ne": ("noreste", "north-east"),
    "compass.e": ("este", "east"),
    "compass.se": ("sureste", "south-east"),
    "compass.s": ("sur", "south"),
    "compass.so": ("suroeste", "south-west"),
    "compass.o": ("oeste", "west"),
    "compass.no": ("noroeste", "north-west"),
    # --- exports --------------------------------------------------------------------
    "exports.title": ("Exportar datos", "Export data"),
    "exports.lead": (
        "Descargue los envíos de un formulario para Excel, R o un SIG. Solo se "
        "incluye lo que usted puede ver según las reglas de los saberes.",
        "Download a form's submissions for Excel, R or GIS. Only what you may "
        "see under the knowledge rules is included.",
    ),
    "exports.form": ("Formulario", "Form"),
    "exports.format": ("Formato", "Format"),
    "exports.filters": ("Filtros", "Filters"),
    "exports.states": (
        "Estados de revisión (ninguno marcado: todos)",
        "Review states (none ticked: all)",
    ),
    "exports.deleted": ("Incluir envíos eliminados", "Include deleted submissions"),
    "exports.options": ("Opciones", "Options"),
    "exports.labels_lang": ("Respuestas de selección", "Select answers"),
    "exports.codes": ("Códigos (p. ej. aransaya)", "Codes (e.g. aransaya)"),
    "exports.header_lang": ("Encabezados de columna", "Column headers"),
    "exports.names": ("Nombres de campo", "Field names"),
    "exports.group_paths": (
        "Nombres de columna con el grupo (lugar-ayllu)",
        "Column names with the group (lugar-ayllu)",
    ),
    "exports.split": (
        "Una columna por opción en las selecciones múltiples",
        "One column per option for select multiple",
    ),
    "exports.attachments": (
        "Incluir fotos y audios (solo CSV en ZIP)",
        "Include photos and audio (CSV ZIP only)",
    ),
    "exports.bom": (
        "Marca UTF-8 para que Excel muestre bien las tildes (CSV)",
        "UTF-8 mark so Excel shows accents correctly (CSV)",
    ),
    "exports.audit": (
        "Cada exportación queda registrada (quién, cuándo, con qué filtros): los "
        "datos que salen no se pueden recuperar.",
        "Every export is logged (who, when, which filters): data that leaves "
        "cannot be called back.",
    ),
    "exports.submit": ("Descargar", "Download"),
    "format.csv.zip": ("CSV en ZIP", "CSV in ZIP"),
    "format.csv": ("CSV", "CSV"),
    "format.xlsx": ("Excel (XLSX)", "Excel (XLSX)"),
    "format.geojson": ("GeoJSON (mapas, SIG)", "GeoJSON (maps, GIS)"),
    "format.jsonl": ("JSON por líneas", "JSON lines"),
    "format_help.csv.zip": (
        "Como ODK Central: una tabla por repetición y, si se pide, las fotos.",
        "As ODK Central: one table per repeat and, if asked, the photos.",
    ),
    "format_help.csv": (
        "Solo la tabla principal, sin repeticiones.",
        "The main table only, without repeats.",
    ),
    "format_help.xlsx": (
        "Un libro de Excel con una hoja por tabla.",
        "An Excel workbook with one sheet per table.",
    ),
    "format_help.geojson": (
        "Los puntos GPS, para QGIS u otro SIG.",
        "The GPS points, for QGIS or another GIS.",
    ),
    "format_help.jsonl": (
        "Un registro completo por línea, para R o Python.",
        "One whole record per line, for R or Python.",
    ),
    # --- dashboard --------------------------------------------------------------------
    "dash.title": ("Panel de planificación", "Planning dashboard"),
    "dash.lead": (
        "Las preguntas de planificación de la CdP, con los datos que usted puede "
        "ver. Los registros de saberes restringidos solo se cuentan.",
        "The CdP's planning questions, with the data you may see. Restricted "
        "knowledge records are only counted.",
    ),
    "dash.filters": ("Filtros del panel", "Dashboard filters"),
    "dash.table": ("Ver los datos en una tabla", "See the data as a table"),
    "dash.no_data": ("Sin datos para estos filtros.", "No data for these filters."),
    "dash.total": ("Total", "Total"),
    "dash.month": ("Mes", "Month"),
    "dash.sector": ("Sector", "Sector"),
    "dash.urgency": ("Urgencia", "Urgency"),
    "dash.domain": ("Dominio", "Domain"),
    "dash.origin": ("Origen", "Origin"),
    "dash.level": ("Nivel", "Level"),
    "dash.institution": ("Institución", "Institution"),
    "dash.permanence": ("Permanencia", "Permanence"),
    "dash.needs.title": ("¿Qué necesidades van primero?", "Which needs come first?"),
    "dash.needs.help": (
        "Necesidades por ayllu y sector, ponderadas por urgencia (crítica 4, "
        "alta 3, media 2, baja 1).",
        "Needs by ayllu and sector, weighted by urgency (critical 4, high 3, "
        "medium 2, low 1).",
    ),
    "dash.needs.desc": (
        "Barras apiladas por urgencia de las {n} combinaciones de ayllu y sector "
        "con más peso.",
        "Bars stacked by urgency for the {n} heaviest ayllu and sector pairs.",
    ),
    "dash.needs.count": ("Necesidades", "Needs"),
    "dash.needs.assessments": ("Diagnósticos", "Assessments"),
    "dash.needs.households": ("Hogares afectados", "Households affected"),
    "dash.participation.title": ("¿Quiénes participan?", "Who takes part?"),
    "dash.participation.help": (
        "Asistentes a reuniones por mes. Una reunión de varias mesas cuenta en "
        "cada mesa: filtre por mesa para no contar dos veces.",
        "Meeting attendees per month. A meeting of several mesas counts in each "
        "mesa: filter by mesa to avoid double counting.",
    ),
    "dash.participation.sex_title": ("Asistentes por sexo", "Attendees by sex"),
    "dash.participation.level_title": (
        "Asistentes por nivel de actor",
        "Attendees by actor level",
    ),
    "dash.participation.desc": (
        "Barras apiladas por mes.",
        "Bars stacked per month.",
    ),
    "dash.practices.title": (
        "¿Qué saberes están documentados?",
        "What knowledge is documented?",
    ),
    "dash.practices.help": (
        "Prácticas por dominio y origen del conocimiento. «Contenido no "
        "visible»: prácticas restringidas que solo se cuentan.",
        "Practices by domain and origin of the knowledge. 'Content not "
        "visible': restricted practices, counted only.",
    ),
    "dash.practices.desc": (
        "Barras por dominio, apiladas por origen.",
        "Bars per domain, stacked by origin.",
    ),
    "dash.practices.count": ("Prácticas", "Practices"),
    "dash.agreements.title": ("¿Se cumplen los acuerdos?", "Are agreements kept?"),
    "dash.agreements.help": (
        "Acuerdos de las reuniones por estado; vencido: pasó el plazo sin cumplirse.",
        "Meeting agreements by status; overdue: the deadline passed unfinished.",
    ),
    "dash.agreements.desc": (
        "Barras por estado: al día y vencidos.",
        "Bars per status: on time and overdue.",
    ),
    "dash.agreements.on_time": ("Al día", "On time"),
    "dash.agreements.overdue": ("Acuerdos vencidos", "Overdue agreements"),
    "dash.agreements.overdue_list": ("Acuerdos vencidos", "Overdue agreements"),
    "dash.agreements.none_overdue": (
        "Ningún acuerdo vencido.",
        "No overdue agreements.",
    ),
    "dash.agreements.agreement": ("Acuerdo", "Agreement"),
    "dash.agreements.responsible": ("Responsable", "Responsible"),
    "dash.agreements.deadline": ("Plazo", "Deadline"),
    "dash.agreements.days": ("Días de retraso", "Days overdue"),
    "dash.agreements.state": ("Estado", "Status"),
    "dash.agreements.meeting": ("Reunión", "Meeting"),
    "dash.commitments.title": (
        "¿Quién se compromete con la CdP?",
        "Who commits support to the CdP?",
    ),
    "dash.commitments.help": (
        "Compromisos institucionales de las reuniones, por institución y permanencia.",
        "Institutional commitments made in meetings, by institution and permanence.",
    ),
    "dash.commitments.desc": (
        "Barras por institución, apiladas por permanencia.",
        "Bars per institution, stacked by permanence.",
    ),
    "dash.commitments.count": ("Compromisos", "Commitments"),
    "dash.commitments.amounts": ("Montos", "Amounts"),
    "dash.exchanges.title": ("Intercambios horizontales", "Horizontal exchanges"),
    "dash.exchanges.meetings": ("Reuniones de intercambio", "Exchange meetings"),
    "dash.exchanges.practices": (
        "Prácticas aprendidas de otra comunidad",
        "Practices learnt from another community",
    ),
    "agg.sin_dato": ("Sin dato", "No data"),
    "agg.no_visible": ("Contenido no visible", "Content not visible"),
    "agg.sin_mesa": ("Sin mesa", "No mesa"),
    "agg.sin_moneda": ("sin moneda", "no currency"),
    "perm_group.permanente": ("Permanente", "Permanent"),
    "perm_group.temporal": ("Temporal", "Temporary"),
    "perm_group.prospectivo": ("En negociación", "Prospective"),
    "perm_group.finalizado": ("Finalizado", "Ended"),
    "perm_group.sin_dato": ("Sin dato", "No data"),
    "month.1": ("ene", "Jan"),
    "month.2": ("feb", "Feb"),
    "month.3": ("mar", "Mar"),
    "month.4": ("abr", "Apr"),
    "month.5": ("may", "May"),
    "month.6": ("jun", "Jun"),
    "month.7": ("jul", "Jul"),
    "month.8": ("ago", "Aug"),
    "month.9": ("sep", "Sep"),
    "month.10": ("oct", "Oct"),
    "month.11": ("nov", "Nov"),
    "month.12": ("dic", "Dec"),
    # --- users ------------------------------------------------------------------------
    "users.title": ("Usuarios", "Users"),
    "users.username": ("Usuario", "Username"),
    "users.display_name": ("Nombre para mostrar", "Display name"),
    "users.email": ("Correo electrónico", "E-mail"),
    "users.email_hint": (
        "Opcional; si lo deja vacío se usa usuario@localhost.",
        "Optional; left empty, username@localhost is used.",
    ),
    "users.password": ("Contraseña", "Password"),
    "users.password_hint": (
        "Déjela vacía para generar una contraseña segura que se muestra una sola vez.",
        "Leave it empty to generate a strong password, shown only once.",
    ),
    "users.roles": ("Roles", "Roles"),
    "users.role": ("Rol", "Role"),
    "users.project": ("Proyecto", "Project"),
    "users.ayllu": ("Ayllu (solo para custodia)", "Ayllu (guardian only)"),
    "users.ayllu_hint": (
        "La custodia da acceso a los saberes restringidos de ese ayllu. Ser "
        "administrador/a no la incluye.",
        "Guardianship gives access to that ayllu's restricted knowledge. Being "
        "an administrator does not include it.",
    ),
    "users.collect": ("ODK Collect con contraseña", "ODK Collect with password"),
    "users.collect_label": (
        "Puede usar ODK Collect con su usuario y contraseña",
        "May use ODK Collect with username and password",
    ),
    "users.admin_label": ("Administrador/a del sitio", "Site administrator"),
    "users.guardian_warning": (
        "Nombre custodio/a de un ayllu solo a quien sus autoridades (jilakata y "
        "mama t'alla, o el Chawkh Parla) hayan designado: la custodia abre los "
        "saberes restringidos de ese ayllu y autoriza abrir un registro. Cada "
        "asignación queda en la bitácora de auditoría.",
        "Name as an ayllu's guardian only someone its authorities (jilakata and "
        "mama t'alla, or the Chawkh Parla) have designated: guardianship opens "
        "that ayllu's restricted knowledge and allows opening a record up. Every "
        "grant is kept in the audit log.",
    ),
    "users.no_roles": ("sin roles", "no roles"),
    "users.new": ("Crear un usuario", "Create a user"),
    "users.create": ("Crear el usuario", "Create the user"),
    "users.created": ("Usuario «{username}» creado.", "User '{username}' created."),
    "users.username_required": ("Escriba un nombre de usuario.", "Write a username."),
    "users.new_password": ("Contraseña:", "Password:"),
    "users.new_password_once": (
        "Cópiela y entréguela en persona: no se volverá a mostrar.",
        "Copy it and hand it over in person: it will not be shown again.",
    ),
    "users.password_reset": ("Contraseña restablecida.", "Password reset."),
    "users.reset": ("Restablecer la contraseña", "Reset the password"),
    "users.reset_submit": ("Restablecer", "Reset"),
    "users.reset_confirm": (
        "¿Restablecer la contraseña? Las sesiones abiertas de este usuario "
        "se cerrarán.",
        "Reset the password? This user's open sessions will be signed out.",
    ),
    "users.assign": ("Asignar un rol", "Assign a role"),
    "users.assign_help": (
        "Administrador/a del sitio: todo el sitio. Los demás roles son por proyecto.",
        "Site administrator: the whole site. The other roles are per project.",
    ),
    "users.assign_submit": ("Asignar", "Assign"),
    "users.role_assigned": ("Rol asignado: {role}.", "Role assigned: {role}."),
    "users.role_revoked": ("Rol retirado: {role}.", "Role revoked: {role}."),
    "users.role_not_held": (
        "No tenía ese rol: {role}.",
        "That role was not held: {role}.",
    ),
    "users.revoke": ("Retirar", "Revoke"),
    "users.revoke_confirm": ("¿Retirar este rol?", "Revoke this role?"),
    "users.keep_own_admin": (
        "No puede quitarse a sí mismo/a el rol de administrador/a.",
        "You cannot remove your own administrator role.",
    ),
    # --- audit log ----------------------------------------------------------------
    "audit.title": ("Bitácora de auditoría", "Audit log"),
    "audit.lead": (
        "Quién hizo qué y cuándo en este servidor: envíos, ediciones y cambios de "
        "nivel de acceso o consentimiento, exportaciones, roles y custodias, "
        "retiros de consentimiento. Nunca muestra el contenido de un registro.",
        "Who did what and when on this server: submissions, edits and changes of "
        "access level or consent, exports, roles and guardianships, consent "
        "withdrawals. It never shows a record's content.",
    ),
    "audit.action": ("Acción", "Action"),
    "audit.when": ("Cuándo (hora de Bolivia)", "When (Bolivian time)"),
    "audit.who": ("Quién", "Who"),
    "audit.target": ("Sobre", "On"),
    "audit.details": ("Detalles", "Details"),
    "audit.server": ("el servidor", "the server"),
    "audit.tablet": ("tableta", "tablet"),
    "audit.count": ("{n} entradas.", "{n} entries."),
    "audit.empty": (
        "Ninguna entrada con estos filtros.",
        "No entries with these filters.",
    ),
    "audit.any_action": ("Todas las acciones", "All actions"),
    "role.site_admin": ("Administrador/a del sitio", "Site administrator"),
    "role.manager": ("Coordinación (gestión)", "Manager"),
    "role.analyst": ("Análisis (solo lectura)", "Analyst (read only)"),
    "role.data_collector": ("Recolección de datos", "Data collector"),
    "role.guardian": ("Custodia de saberes", "Knowledge guardian"),
    "role.app_user": ("Tableta", "Tablet"),
}
