"""Property: for any permission set of a client user, staff logged in as that user can
do and see exactly what the user can, on every workspace route."""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account
from core.extensions import db, limiter
from tenant.inbox_models import Contact, Conversation, Team, TeamMember
from tests.conftest import Browser

_seq = itertools.count(1)
VISIBLE = re.compile(r'data-(?:conversation|contact)-id="\d+"|\+55 \d\d [\d*]{4,5}-[\d*]{4}')


def world(app, reseller_id: int, client_id: int, user_id: int, other_id: int, tag: str) -> dict[str, int]:
    """Conversations mine / queue / team / someone else's, and a contact."""
    with app.app_context():
        team = Team(reseller_id=reseller_id, client_id=client_id, name=f"Equipe {tag}")
        db.session.add(team)
        db.session.flush()
        db.session.add(
            TeamMember(reseller_id=reseller_id, client_id=client_id, team_id=team.id, account_id=user_id)
        )
        out = {"team": team.id}
        for n, (label, assigned, team_id) in enumerate(
            (
                ("mine", user_id, None),
                ("queue", None, None),
                ("team", other_id, team.id),
                ("other", other_id, None),
            )
        ):
            contact = Contact(
                reseller_id=reseller_id, client_id=client_id, name=f"{label}", phone=f"55119{next(_seq):08d}"
            )
            db.session.add(contact)
            db.session.flush()
            conversation = Conversation(
                reseller_id=reseller_id,
                client_id=client_id,
                contact_id=contact.id,
                assigned_account_id=assigned,
                team_id=team_id,
            )
            db.session.add(conversation)
            db.session.flush()
            out[label] = conversation.id
            out[f"contact_{n}"] = contact.id
        db.session.commit()
        return out


def requests_for(ids: dict[str, int], user_id: int) -> list[tuple[str, str, dict]]:
    reqs = [("GET", "/app/", {})]
    for view in ("mine", "queue", "team", "all"):
        reqs.append(("GET", f"/app/?view={view}", {}))
    reqs += [
        ("GET", "/app/contacts", {}),
        ("GET", "/app/teams", {}),
        ("GET", "/app/subscription", {}),
        ("GET", "/app/users", {}),
    ]
    for label in ("mine", "queue", "team", "other"):
        reqs.append(("GET", f"/app/conversations/{ids[label]}", {}))
    reqs += [
        ("POST", f"/app/conversations/{ids['queue']}/take", {}),
        ("POST", f"/app/conversations/{ids['other']}/assign", {"account_id": user_id}),
        ("POST", f"/app/conversations/{ids['team']}/close", {}),
        ("POST", f"/app/conversations/{ids['mine']}/close", {}),
        ("POST", f"/app/conversations/{ids['mine']}/reopen", {}),
        ("POST", f"/app/teams/{ids['team']}/members", {"account_id": user_id}),
        ("POST", "/app/teams", {"name": f"Nova {ids['team']}"}),
    ]
    return reqs


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    level=st.integers(min_value=1, max_value=6),
    view_phones=st.booleans(),
    extra=st.sets(st.sampled_from(sorted(perm.CLIENT_USER_PERMISSIONS))),
)
def test_the_impersonator_can_do_exactly_what_the_user_can(app, factory, tenants, level, view_phones, extra):
    limiter.reset()  # many logins from one address across examples
    n = next(_seq)
    client = factory.client(
        tenants.a.id, trade_name=f"Cliente {n}", plan_id=tenants.a.plan.id, payment_status="paid"
    )
    user = factory.user(client.id, email=f"pessoa{n}@cliente.test", name="Pessoa")
    other = factory.user(client.id, email=f"colega{n}@cliente.test", name="Colega")
    with app.app_context():
        account = db.session.get(Account, user.id)
        account.chat_level, account.view_phones, account.permissions = level, view_phones, sorted(extra)
        db.session.commit()
    staff = factory.staff(tenants.a.id, permissions=sorted(perm.STAFF_PERMISSIONS), email=f"staff{n}@a.test")

    as_user = Browser(app)
    as_user.login(user.email)
    as_staff = Browser(app)
    as_staff.login(staff.email)
    assert (
        as_staff.post(f"/reseller/clients/{client.id}/users/{user.id}/login-as").headers["Location"]
        == "/app/"
    )

    first = world(app, tenants.a.id, client.id, user.id, other.id, f"{n}a")
    second = world(app, tenants.a.id, client.id, user.id, other.id, f"{n}b")
    for (method, path, data), (_m, other_path, other_data) in zip(
        requests_for(first, user.id), requests_for(second, user.id), strict=True
    ):
        if method == "GET":
            mine, theirs = as_user.get(path), as_staff.get(other_path)
        else:
            mine, theirs = as_user.post(path, data), as_staff.post(other_path, other_data)
        assert mine.status_code == theirs.status_code, (level, path)
        if method == "GET" and mine.status_code == 200:
            # Both act as the same user on the same rows (each POST was applied to both
            # worlds alike): the conversations, contacts and phone numbers shown are the same.
            shown_user = VISIBLE.findall(mine.get_data(as_text=True))
            shown_staff = VISIBLE.findall(as_staff.get(path).get_data(as_text=True))
            assert shown_user == shown_staff, (level, view_phones, path)
    # The impersonator is still the user, never the staff member.
    assert as_staff.get("/reseller/clients").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Account.chat_level).where(Account.id == user.id)) == level
