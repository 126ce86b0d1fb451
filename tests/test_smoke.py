def test_owner_logs_in_and_sees_own_clients_only(tenants, browser):
    browser.login("owner@a.test")
    page = browser.get("/reseller/clients")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Alpha A" in text
    assert "Beta B" not in text
