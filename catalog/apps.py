from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        # Pillow refuses (DecompressionBombError) images past twice this many pixels wherever
        # one is opened (the admin's image fields too), before decoding them; uploads are held
        # to MAX_IMAGE_PIXELS itself by catalog.services.image_validate.
        from PIL import Image

        from catalog.services import MAX_IMAGE_PIXELS

        Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
