from django.apps import AppConfig


class SandboxRegistryConfig(AppConfig):
    name = "sandbox_registry"
    verbose_name = "Sandbox registry"
