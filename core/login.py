"""
The login forms of the site and the admin, refusing an over-long login name before anyone looks it up.

Django's AuthenticationForm sets the username field's max_length after the field is built, so no length
validator runs and any text reaches authenticate(). django-axes then records the failed attempt with the
name in a 255-character column: on PostgreSQL a longer name fails the insert and the login page answers
500 (SQLite stores it). Here the name is checked first, like any other field.
"""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator

# Django's own login-name limit (auth.User.username), well inside django-axes' 255-character column.
USERNAME_MAX_LENGTH = 150
# Long enough for any pass phrase; a megabyte of "password" is refused before it is hashed.
PASSWORD_MAX_LENGTH = 4096


class _LengthChecked:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.max_length = min(username.max_length or USERNAME_MAX_LENGTH, USERNAME_MAX_LENGTH)
        username.validators.append(MaxLengthValidator(username.max_length))
        self.fields["password"].validators.append(MaxLengthValidator(PASSWORD_MAX_LENGTH))
        # A refused field leaves no username in cleaned_data: AuthenticationForm.clean then tries no login.


class LoginForm(_LengthChecked, AuthenticationForm):
    pass


class AdminLoginForm(_LengthChecked, AdminAuthenticationForm):
    pass
