"""Password guessing on the web page. A real `python app.py --auth` (one for the module) holds
back and then refuses a guesser's address while the right user signs in from another; each test
signs in from its own loopback address (127.0.0.2, .3, ...), so they hold in any order. The
guard's bookkeeping is also checked on its own, with a fake clock and a stand-in login route:
delays, lockout, reset, attempts in flight, bounded memory."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from gradio_client import Client
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from assistant.web.login_guard import (
    MAX_FORM_BYTES,
    Admission,
    LoginAttempts,
    LoginGuard,
    LoginLimits,
    client_key,
)
from tests.web_server import NEEDS_CHROMIUM, App, app_env, chromium, serving

LIMITS = {
    "ASSISTANT_WEB__LOGIN_FREE_FAILURES": "2",
    "ASSISTANT_WEB__LOGIN_DELAY": "0.3",
    "ASSISTANT_WEB__LOGIN_MAX_DELAY": "0.6",
    "ASSISTANT_WEB__LOGIN_LOCKOUT_FAILURES": "5",
    "ASSISTANT_WEB__LOGIN_LOCKOUT_SECONDS": "600",
}
WAITS = [0.0, 0.0, 0.3, 0.6, 0.6]  # least time of each wrong password until the lockout


@pytest.fixture(scope="module")
def locked(tmp_path_factory) -> Iterator[App]:
    folder = tmp_path_factory.mktemp("login")
    with serving(folder, "--auth", "reader:s3cret", env=app_env(**LIMITS)) as app:
        yield app


def from_address(address: str) -> httpx.Client:
    """A client whose connections come from `address` (any of 127.0.0.0/8 on Linux)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def sign_in(
    client: httpx.Client, app: App, password: str, user: str = "reader", **kwargs
) -> httpx.Response:
    return client.post(app.url + "login", data={"username": user, "password": password}, **kwargs)


def counts(log: str, address: str) -> list[int]:
    """The failures in a row logged for `address`, in order."""
    return [
        int(n)
        for n in re.findall(rf"failed sign-in from {re.escape(address)} .*?(\d+) in a row", log)
    ]


# -- the real page ----------------------------------------------------------------------------
@pytest.mark.slow
def test_a_guesser_is_slowed_then_refused_while_the_reader_signs_in_elsewhere(locked):
    with from_address("127.0.0.2") as guesser:
        for attempt, wait in enumerate(WAITS, 1):
            started = time.perf_counter()
            answer = sign_in(guesser, locked, f"guess-{attempt}")
            took = time.perf_counter() - started
            assert answer.status_code == 400, answer.text
            assert took >= wait, f"wrong password {attempt} took {took:.3f} s, less than {wait} s"
        refused = sign_in(guesser, locked, "guess-6")
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 600
        assert "try again in" in refused.json()["detail"]
        # the right password is not even checked, whatever address the request claims
        for headers in ({}, {"X-Forwarded-For": "203.0.113.9"}):
            right = sign_in(guesser, locked, "s3cret", headers=headers)
            assert right.status_code == 429 and "set-cookie" not in right.headers

    reader = Client(locked.url, auth=("reader", "s3cret"), verbose=False)  # from 127.0.0.1
    assert reader.predict(api_name="/index_status")["articles"] == 0
    log = locked.log.read_text()
    assert counts(log, "127.0.0.2") == [1, 2, 3, 4, 5]
    assert log.count("sign-in locked for 127.0.0.2 for 600 s after 5 failures") == 1


@pytest.mark.slow
def test_signing_in_resets_the_count(locked):
    with from_address("127.0.0.3") as client:
        for attempt in range(3):
            assert sign_in(client, locked, f"wrong-{attempt}").status_code == 400
        assert sign_in(client, locked, "s3cret").status_code == 200
        # the page's own form posts multipart
        form = {"username": (None, "admin"), "password": (None, "wrong-again")}
        assert client.post(locked.url + "login", files=form).status_code == 400
    log = locked.log.read_text()
    assert counts(log, "127.0.0.3") == [1, 2, 3, 1]
    assert "signed in from 127.0.0.3 as 'reader' after 3 failures: count reset" in log
    assert "failed sign-in from 127.0.0.3 as 'admin': 1 in a row\n" in log


@pytest.mark.slow
def test_the_log_names_address_user_and_count_never_the_password(locked):
    with from_address("127.0.0.4") as client:
        assert sign_in(client, locked, "Tr0ub4dor&3", user="mallory").status_code == 400
        assert sign_in(client, locked, "s3cret").status_code == 200
    log = locked.log.read_text()
    assert "failed sign-in from 127.0.0.4 as 'mallory': 1 in a row" in log
    assert "signed in from 127.0.0.4 as 'reader' after 1 failure: count reset" in log
    assert "Tr0ub4dor" not in log and "s3cret" not in log


# -- the bookkeeping alone --------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


UNIT = LoginLimits(
    free=2, delay=0.5, max_delay=3.0, lockout_failures=8, lockout_seconds=60, max_addresses=100
)


def fail(attempts: LoginAttempts, address: str) -> float:
    """One admitted attempt that fails; returns how long it was held back."""
    admission = attempts.admit(address)
    assert not admission.retry_after, admission
    attempts.failed(address)
    return admission.wait


def test_waits_double_after_the_free_failures_up_to_the_cap_then_the_address_is_refused():
    attempts = LoginAttempts(UNIT, Clock())
    assert [fail(attempts, "10.0.0.1") for _ in range(8)] == [0, 0, 0.5, 1, 2, 3, 3, 3]
    refused = attempts.admit("10.0.0.1")
    assert refused.retry_after == 60 and refused.failures == 8
    assert attempts.admit("10.0.0.2") == Admission(wait=0.0, failures=0)


def test_after_the_lockout_one_more_failure_locks_again():
    clock = Clock()
    attempts = LoginAttempts(UNIT, clock)
    for _ in range(8):
        fail(attempts, "10.0.0.1")
    clock.now += 59.5
    assert attempts.admit("10.0.0.1").retry_after == 1
    clock.now += 0.5
    assert attempts.admit("10.0.0.1") == Admission(wait=3.0, failures=7)
    assert attempts.failed("10.0.0.1") == (8, True)
    assert attempts.admit("10.0.0.1").retry_after == 60


def test_a_success_forgets_the_failures():
    attempts = LoginAttempts(UNIT, Clock())
    for _ in range(5):
        fail(attempts, "10.0.0.1")
    assert attempts.admit("10.0.0.1").wait == 3.0
    assert attempts.succeeded("10.0.0.1") == 5
    assert len(attempts) == 0
    assert [fail(attempts, "10.0.0.1") for _ in range(3)] == [0, 0, 0.5]


def test_attempts_in_flight_count_as_failures_to_come():
    attempts = LoginAttempts(UNIT, Clock())
    admissions = [attempts.admit("10.0.0.1") for _ in range(10)]
    assert [a.wait for a in admissions[:8]] == [0, 0, 0.5, 1, 2, 3, 3, 3]
    assert all(a.retry_after >= 1 for a in admissions[8:])
    for _ in range(8):
        attempts.abandoned("10.0.0.1")
    assert attempts.admit("10.0.0.1").wait == 0


def test_idle_addresses_are_forgotten_and_the_table_is_bounded():
    clock = Clock()
    attempts = LoginAttempts(replace(UNIT, max_addresses=3), clock)
    for i in range(5):
        fail(attempts, f"10.0.0.{i}")
    assert len(attempts) == 3
    assert [fail(attempts, "10.0.0.0") for _ in range(2)] == [0, 0]  # its failure forgotten
    for _ in range(8):
        fail(attempts, "10.0.0.9")  # locked out for 60 s
    clock.now += 61  # the others have been idle long enough; the lockout just ended
    assert attempts.admit("10.0.0.9").wait == 3.0
    attempts.abandoned("10.0.0.9")
    assert len(attempts) == 1
    clock.now += 60
    attempts.admit("10.0.0.7")
    assert len(attempts) == 1  # 10.0.0.9 forgotten after a quiet lockout_seconds


def test_ipv6_clients_count_per_64_block():
    assert (
        client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    )
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:10.0.0.1") == client_key("10.0.0.1") == "10.0.0.1"
    assert client_key("::1") == "::1"


async def stand_in_login(scope: Scope, receive: Receive, send: Send) -> None:
    """Gradio's `POST /login` in short: 200 for the right password, 400 otherwise."""
    form = await Request(scope, receive).form()
    ok = form.get("password") == "s3cret"
    body = {"success": True} if ok else {"detail": "Incorrect credentials."}
    await JSONResponse(body, 200 if ok else 400)(scope, receive, send)


def test_the_guard_holds_back_refuses_and_logs_without_the_password(caplog):
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    limits = LoginLimits(free=1, delay=0.25, max_delay=1, lockout_failures=3, lockout_seconds=30)
    guard = LoginGuard(stand_in_login, limits, sleep=sleep)

    async def post(client: tuple[str, int], **kwargs) -> httpx.Response:
        transport = httpx.ASGITransport(app=guard, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://page") as http:
            return await http.post("/login", **kwargs)

    async def session() -> list[httpx.Response]:
        guesser, reader = ("198.51.100.7", 5000), ("198.51.100.8", 5000)
        answers = []
        for i in range(3):
            form = {"username": (None, "mallory"), "password": (None, f"guess-{i}")}
            answers.append(await post(guesser, files=form))
        right = {"username": "reader", "password": "s3cret"}
        answers.append(await post(guesser, data=right))
        answers.append(await post(reader, data=right))
        answers.append(await post(reader, content=b"x" * (MAX_FORM_BYTES + 1)))
        return answers

    with caplog.at_level(logging.INFO, logger="assistant.web"):
        answers = asyncio.run(session())
    assert [a.status_code for a in answers] == [400, 400, 400, 429, 200, 413]
    assert answers[3].headers["Retry-After"] == "30"
    assert slept == [0.25, 0.5]
    assert "failed sign-in from 198.51.100.7 as 'mallory': 3 in a row" in caplog.text
    assert [r.levelname for r in caplog.records if "locked" in r.message] == ["WARNING"]
    assert "guess-" not in caplog.text and "s3cret" not in caplog.text


# -- the sign-in form in a real browser -------------------------------------------------------
@pytest.fixture(scope="module")
def locks_soon(tmp_path_factory) -> Iterator[App]:
    """A page of its own that locks an address out after 2 failures: the browser signs in from
    127.0.0.1, which the page above keeps for the right user."""
    folder = tmp_path_factory.mktemp("login-form")
    limits = {**LIMITS, "ASSISTANT_WEB__LOGIN_LOCKOUT_FAILURES": "2"}
    with serving(folder, "--auth", "reader:s3cret", env=app_env(**limits)) as app:
        yield app


@pytest.mark.slow
@NEEDS_CHROMIUM
@pytest.mark.parametrize("size", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_a_locked_out_reader_is_told_why_and_for_how_long(locks_soon, size):
    with chromium() as browser:
        context = browser.new_context(viewport=size)
        page = context.new_page()
        page.goto(locks_soon.url)
        page.wait_for_selector("input[type=password]", timeout=90_000)
        for _ in range(3):  # two wrong passwords lock the address; the third is refused
            page.request.post(
                locks_soon.url + "login", form={"username": "reader", "password": "wrong"}
            )
        page.fill("input[type=text]", "reader")
        page.fill("input[type=password]", "s3cret")  # the right one: still locked out
        page.keyboard.press("Enter")
        note = page.wait_for_selector("#na-login-note:not(:empty)", timeout=90_000)
        said = note.inner_text()
        assert said.startswith("Too many failed sign-ins from this address: try again in ")
        assert 0 < int(re.search(r"in (\d+) s", said).group(1)) <= 600
        assert page.locator("input[type=password]").count() == 1  # still the sign-in form
        context.close()
