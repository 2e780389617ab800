"""Which model to talk to: a configured endpoint, or the embedded model started on demand."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from smallcode_ls.llm.client import ChatClient
from smallcode_ls.llm.embedded import DEFAULT_ALIAS, EmbeddedModel
from smallcode_ls.llm.endpoints import Endpoint, EndpointKind, detect_kind
from smallcode_ls.settings import EscalationSettings, ModelSettings

__all__ = ["ModelService", "ModelStatus"]

logger = logging.getLogger(__name__)

EmbeddedFactory = Callable[[ModelSettings], EmbeddedModel]


def _embedded(settings: ModelSettings) -> EmbeddedModel:
    return EmbeddedModel(threads=settings.threads, context_size=settings.context_window)


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """What model is in use and where (for ``smallcode.status``)."""

    source: str  # "embedded" or "endpoint"
    kind: str
    base_url: str | None
    model: str
    state: str
    message: str = ""


class ModelService:
    """Owns the chat client (and the embedded model) for one session."""

    def __init__(
        self,
        settings: ModelSettings,
        env: Mapping[str, str],
        embedded_factory: EmbeddedFactory = _embedded,
    ) -> None:
        self._settings = settings
        self._env = dict(env)
        self._embedded_factory = embedded_factory
        self._embedded: EmbeddedModel | None = None
        self._client: ChatClient | None = None
        self._escalation: ChatClient | None = None

    @property
    def uses_embedded(self) -> bool:
        """True when no endpoint is configured."""
        return not self._settings.base_url

    async def client(self) -> ChatClient:
        """The chat client, starting the embedded model on first use (seconds, off the loop)."""
        if self._client is not None:
            return self._client
        if self.uses_embedded:
            if self._embedded is None:
                self._embedded = self._embedded_factory(self._settings)
            base_url = await self._embedded.ensure_started()
            endpoint = Endpoint(
                base_url,
                DEFAULT_ALIAS,
                EndpointKind.EMBEDDED,
                context_window=self._settings.context_window,
                api_key_env="",
            )
        else:
            endpoint = Endpoint(
                self._settings.base_url,
                self._settings.name,
                detect_kind(self._settings.base_url),
                context_window=self._settings.context_window,
                api_key_env=self._settings.api_key_env,
            )
        self._client = ChatClient(endpoint, env=self._env)
        return self._client

    def escalation(self, settings: EscalationSettings) -> ChatClient | None:
        """The stronger endpoint's client, when one is configured (nothing leaves otherwise)."""
        if not settings.base_url:
            return None
        endpoint = self._escalation.endpoint if self._escalation else None
        if (
            endpoint is None
            or endpoint.base_url != settings.base_url
            or (endpoint.model != settings.model)
        ):
            self._escalation = ChatClient(
                Endpoint(
                    settings.base_url,
                    settings.model,
                    detect_kind(settings.base_url),
                    context_window=self._settings.context_window,
                    api_key_env=settings.api_key_env,
                ),
                env=self._env,
            )
        return self._escalation

    async def reconfigure(self, settings: ModelSettings) -> None:
        """Apply new model settings; the next call builds a new client."""
        if settings == self._settings:
            return
        self._settings = settings
        await self.aclose()

    def status(self) -> ModelStatus:
        """Where the model is and whether it is up."""
        if not self.uses_embedded:
            return ModelStatus(
                source="endpoint",
                kind=detect_kind(self._settings.base_url).value,
                base_url=self._settings.base_url,
                model=self._settings.name,
                state="configured",
            )
        if self._embedded is None:
            self._embedded = self._embedded_factory(self._settings)
        embedded = self._embedded.status()
        return ModelStatus(
            source="embedded",
            kind=EndpointKind.EMBEDDED.value,
            base_url=embedded.base_url,
            model=embedded.alias,
            state=embedded.state.value,
            message=embedded.message,
        )

    async def aclose(self) -> None:
        """Close the client and stop the embedded model."""
        for client in (self._client, self._escalation):
            if client is not None:
                await client.aclose()
        self._client = self._escalation = None
        embedded, self._embedded = self._embedded, None
        if embedded is not None:
            await embedded.aclose()
