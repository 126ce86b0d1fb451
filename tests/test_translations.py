"""The pt-BR catalog keeps up with the source and the UI speaks it by default."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pt_br_catalog_is_complete_and_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "translations" / "check.py"), "pt_BR"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout


def test_login_page_is_portuguese_by_default_and_english_on_request(tenants, make_browser):
    page = make_browser().get("/login").get_data(as_text=True)
    assert "Entrar" in page
    english = make_browser().get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Log in" in english.get_data(as_text=True)
    assert "Entrar" not in english.get_data(as_text=True)
