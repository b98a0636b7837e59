"""``remind --send`` / ``statement --send``: the letter is made, then emailed through the outbox, never twice."""
import email
import email.policy

from echeances.cli import main
from echeances.demo import write_demo


def test_remind_send__outbox_then_refused_within_interval_then_forced(tmp_path, capsys):
    write_demo(tmp_path)
    args = ["--workspace", str(tmp_path), "remind", "-t", "relance_1", "--client", "CL010", "--as-of", "2026-12-04",
            "--send", "--mail-cc", "compta@durand.example"]
    assert main(args) == 0
    sent = list((tmp_path / "outbox").glob("*.eml"))
    assert len(sent) == 1
    message = email.message_from_bytes(sent[0].read_bytes(), policy=email.policy.default)
    assert message["Cc"] == "compta@durand.example"
    assert [part.get_filename() for part in message.iter_attachments()][0].endswith(".pdf")
    capsys.readouterr()
    assert main(args[:-2]) == 2
    assert "moins de 7 jours. Pour relancer quand même, utilisez --force." in capsys.readouterr().err
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert main([*args[:-2], "--force"]) == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2


def test_statement_send__goes_to_the_client(tmp_path, capsys):
    write_demo(tmp_path)
    assert main(["--workspace", str(tmp_path), "statement", "--client", "CL010", "--to", "2026-12-04", "--send"]) == 0
    (sent,) = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == "compta@ehpadlesglycin.fr"
    assert "Relevé" in message["Subject"] or "relevé" in message["Subject"]


def test_send__an_edited_subject_with_a_line_break_is_refused_and_nothing_sent(tmp_path):
    import pytest

    from echeances import Workspace
    from echeances.mail.message import MessageRefused

    write_demo(tmp_path)
    ws = Workspace.open(tmp_path)
    doc = ws.reminder("relance_1", client="CL010", as_of="2026-12-04")
    with pytest.raises(MessageRefused, match="saut de ligne"):
        ws.send(doc.id, subject="Relance\nBcc: espion@example.org")
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").glob("*.eml"))
    sent = ws.send(doc.id, subject="Relance : facture en retard", body="Bonjour,\nmerci de régler.\n")
    assert sent.status == "envoyé"
