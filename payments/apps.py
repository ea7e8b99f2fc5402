from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        import logging

        from payments.gateways import gateway_describe

        logging.getLogger("shop.payments").info("Payments: %s.", gateway_describe())
