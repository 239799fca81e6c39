from tests.helpers import html


def test_signup_then_home_lists_groups(alice, lounge):
    page = alice.get("/")
    assert page.status_code == 200
    assert html(page).css_first(f"#group-{lounge} .group__name").text(strip=True) == "Lounge"
