from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from textdesk.accounts.models import User


@admin.register(User)
class StaffAdmin(UserAdmin):
    fieldsets = [
        *UserAdmin.fieldsets,
        ("textdesk", {"fields": ["dashboards", "shortcuts_enabled"]}),
    ]
    filter_horizontal = [*UserAdmin.filter_horizontal, "dashboards"]
