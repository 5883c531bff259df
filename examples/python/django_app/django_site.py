"""A one-file Django project for gateway-wsgi: the same routes as
flask_app.py (hello, a 64 KiB page, a form/upload echo, a streaming
response, who is logged in, a link built by reverse()).

    gateway-wsgi django_site:application --chdir examples/python/django_app \
        --pythonpath .. --gzip --access-log
"""

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="gateway-example-not-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost", "[::1]"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse  # noqa: E402
from django.urls import path, reverse  # noqa: E402

from pages import BIG, HELLO, STREAM, describe_upload  # noqa: E402

TEXT = "text/plain; charset=utf-8"


def hello(request):
    return HttpResponse(HELLO, content_type=TEXT)


def big(request):
    return HttpResponse(BIG, content_type=TEXT)


def echo(request):
    if request.method != "POST":
        return HttpResponse(status=405)
    files = {name: dict(describe_upload(f.read()), filename=f.name)
             for name, f in request.FILES.items()}
    return JsonResponse({"form": request.POST.dict(), "files": files})


def stream(request):
    return StreamingHttpResponse(iter(STREAM), content_type=TEXT)


def whoami(request):
    return HttpResponse(request.META.get("REMOTE_USER", "") + "\n", content_type=TEXT)


def link(request):
    return HttpResponse(reverse("big") + "\n", content_type=TEXT)


urlpatterns = [
    path("", hello),
    path("big", big, name="big"),
    path("echo", echo),
    path("stream", stream),
    path("whoami", whoami),
    path("link", link),
]

application = get_wsgi_application()
