from dutydesk.cli import app

app(prog_name="dutydesk")
