//! `Middleware`: decorators that take an app and return an app.
//!
//! A WSGI middleware is an app that wraps an app. Here it is a
//! [`Middleware`], which makes the wrapping app ([`Middleware::wrap`], static
//! dispatch: a stack of middleware is one concrete type, inlined). A middleware
//! may rewrite the environ, call the inner app or answer itself, register an
//! [`Intercept`](crate::Intercept) to see and change the response, or wrap the
//! body.
//!
//! [`Stack`] composes middleware as tower's `ServiceBuilder` composes layers:
//! the first added is the outermost (it sees the request first and the
//! response last). [`middleware_fn`] makes a one-off middleware from a
//! closure, as axum's `from_fn`.
//!
//! ```
//! use gateway_core::{middleware_fn, testing::Client, Body, Environ, Error, Middleware,
//!                    Next, Stack, StartResponse};
//!
//! let app = |environ: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     let who = environ.get("X_WHO").unwrap_or_default().into_owned();
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from(who))
//! };
//! let tag = middleware_fn(|mut environ: Environ, sr: StartResponse, next: Next<'_>| {
//!     environ.set_var("X_WHO", "tagged")?;
//!     next.call(environ, sr)
//! });
//! let stack = Stack::new().with(tag).wrap(app);
//! assert_eq!(Client::new(stack).get("/").send().text(), "tagged");
//! ```

use std::fmt;

use crate::{App, Body, Environ, Error, StartResponse};

/// A decorator: wraps an app in another app.
pub trait Middleware<A> {
    /// The wrapping app.
    type App: App;

    /// Wrap `app`.
    fn wrap(&self, app: A) -> Self::App;
}

/// The middleware that does nothing: the start of a [`Stack`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl<A: App> Middleware<A> for Identity {
    type App = A;
    fn wrap(&self, app: A) -> A {
        app
    }
}

/// Two middleware, `outer` around `inner`.
#[derive(Debug, Clone)]
pub struct Chain<Inner, Outer> {
    inner: Inner,
    outer: Outer,
}

impl<A, Inner, Outer> Middleware<A> for Chain<Inner, Outer>
where
    Inner: Middleware<A>,
    Outer: Middleware<Inner::App>,
{
    type App = Outer::App;
    fn wrap(&self, app: A) -> Self::App {
        self.outer.wrap(self.inner.wrap(app))
    }
}

/// A builder of middleware stacks; the first added is the outermost.
#[derive(Debug, Clone, Default)]
pub struct Stack<M = Identity> {
    middleware: M,
}

impl Stack<Identity> {
    /// An empty stack.
    pub fn new() -> Self {
        Stack {
            middleware: Identity,
        }
    }
}

impl<M> Stack<M> {
    /// Add a middleware inside those already added.
    pub fn with<N>(self, middleware: N) -> Stack<Chain<N, M>> {
        Stack {
            middleware: Chain {
                inner: middleware,
                outer: self.middleware,
            },
        }
    }

    /// Add a middleware only when `Some`.
    pub fn with_option<N>(self, middleware: Option<N>) -> Stack<Chain<Optional<N>, M>> {
        self.with(Optional(middleware))
    }

    /// Wrap an app in the whole stack.
    pub fn wrap<A>(&self, app: A) -> M::App
    where
        M: Middleware<A>,
    {
        self.middleware.wrap(app)
    }
}

impl<A, M: Middleware<A>> Middleware<A> for Stack<M> {
    type App = M::App;
    fn wrap(&self, app: A) -> Self::App {
        self.middleware.wrap(app)
    }
}

/// A middleware that may be absent (see [`Stack::with_option`]).
#[derive(Debug, Clone)]
pub struct Optional<M>(Option<M>);

/// The app an [`Optional`] middleware makes.
#[derive(Debug)]
pub enum Either<A, B> {
    /// The middleware was there.
    Left(A),
    /// It was not.
    Right(B),
}

impl<A: App, B: App> App for Either<A, B> {
    fn call(&self, environ: Environ, sr: StartResponse) -> Result<Body, Error> {
        match self {
            Either::Left(a) => a.call(environ, sr),
            Either::Right(b) => b.call(environ, sr),
        }
    }
}

impl<A: App, M: Middleware<A>> Middleware<A> for Optional<M> {
    type App = Either<M::App, A>;
    fn wrap(&self, app: A) -> Self::App {
        match &self.0 {
            Some(m) => Either::Left(m.wrap(app)),
            None => Either::Right(app),
        }
    }
}

/// The rest of the stack, as a [`middleware_fn`] closure sees it.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    app: &'a dyn App,
}

impl Next<'_> {
    /// Call the inner app.
    pub fn call(self, environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        self.app.call(environ, start_response)
    }
}

impl fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

/// A middleware made of a closure `(environ, start_response, next) -> body`.
pub fn middleware_fn<F>(f: F) -> FromFn<F>
where
    F: Fn(Environ, StartResponse, Next<'_>) -> Result<Body, Error> + Clone + Send + Sync + 'static,
{
    FromFn { f }
}

/// The middleware [`middleware_fn`] makes.
#[derive(Clone)]
pub struct FromFn<F> {
    f: F,
}

impl<F> fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromFn").finish_non_exhaustive()
    }
}

impl<A, F> Middleware<A> for FromFn<F>
where
    A: App,
    F: Fn(Environ, StartResponse, Next<'_>) -> Result<Body, Error> + Clone + Send + Sync + 'static,
{
    type App = FromFnApp<F, A>;
    fn wrap(&self, app: A) -> Self::App {
        FromFnApp {
            f: self.f.clone(),
            app,
        }
    }
}

/// The app a [`middleware_fn`] makes around an inner app.
#[derive(Clone)]
pub struct FromFnApp<F, A> {
    f: F,
    app: A,
}

impl<F, A> fmt::Debug for FromFnApp<F, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromFnApp").finish_non_exhaustive()
    }
}

impl<F, A> App for FromFnApp<F, A>
where
    A: App,
    F: Fn(Environ, StartResponse, Next<'_>) -> Result<Body, Error> + Send + Sync + 'static,
{
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        (self.f)(environ, start_response, Next { app: &self.app })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Client;

    /// Appends its name to the `X_TRAIL` var on the way in.
    fn mark(
        name: &'static str,
    ) -> FromFn<
        impl Fn(Environ, StartResponse, Next<'_>) -> Result<Body, Error> + Clone + Send + Sync + 'static,
    > {
        middleware_fn(
            move |mut environ: Environ, sr: StartResponse, next: Next<'_>| {
                let trail = format!("{}{name}", environ.get("X_TRAIL").unwrap_or_default());
                environ.set_var("X_TRAIL", trail)?;
                next.call(environ, sr)
            },
        )
    }

    fn echo_trail() -> crate::BoxApp {
        crate::BoxApp::new(
            |environ: Environ, sr: StartResponse| -> Result<Body, Error> {
                sr.start("200 OK", ())?;
                Ok(Body::from(
                    environ.get("X_TRAIL").unwrap_or_default().into_owned(),
                ))
            },
        )
    }

    #[test]
    fn first_added_is_outermost() {
        let stack = Stack::new().with(mark("a")).with(mark("b")).with(mark("c"));
        let app = stack.wrap(echo_trail());
        assert_eq!(Client::new(app).get("/").send().text(), "abc");
    }

    #[test]
    fn optional_middleware() {
        let on = Stack::new().with_option(Some(mark("x"))).wrap(echo_trail());
        assert_eq!(Client::new(on).get("/").send().text(), "x");
        let off = Stack::new()
            .with_option(
                None::<FromFn<fn(Environ, StartResponse, Next<'_>) -> Result<Body, Error>>>,
            )
            .wrap(echo_trail());
        assert_eq!(Client::new(off).get("/").send().text(), "");
    }
}
