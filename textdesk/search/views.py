"""The search page: every line the user may see, one query string, chips, "Load more"."""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from textdesk.accounts.decorators import permission_required
from textdesk.search import engine, index
from textdesk.search.forms import SearchForm
from textdesk.search.query import MAX_LENGTH

TEMPLATE = "search/search_results.html"


@require_GET
@permission_required("view_conversations")
def results(request):
    params = request.GET.copy()
    asked = "q" in params
    form = SearchForm(params if asked else None, user=request.user)
    context = {
        "form": form,
        "asked": asked,
        "page": None,
        "chips": [],
        "max_length": MAX_LENGTH,
        "is_slow": index.backend() == "like",
        "best_cap": engine.BEST_CAP,
    }
    status = 200
    if asked and form.is_valid():
        data = form.cleaned_data
        page = engine.search(
            request.user, data["query"], form.filters(), sort=data["sort"], after=data["after"]
        )
        more = params.copy()
        if page.next_after:
            more["after"] = page.next_after
        context.update(page=page, chips=form.chips(params), more_query=more.urlencode())
    elif asked:
        status = 400
    region = "results-page" if request.htmx and request.htmx.target == "results-more" else ""
    name = f"{TEMPLATE}#{region}" if region else TEMPLATE
    return HttpResponse(render_to_string(name, context, request), status=status)
