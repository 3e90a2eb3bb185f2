//! `#[derive(Shape)]`: names a plugin's own struct or enum in the signature language of
//! `quack_core::Shape`. Use it through `quack_core` (`use quack_core::Shape;`), which re-exports it.
//!
//! A type names itself (`Task`); a generic type names its parameters (`Page<[u64]>`), which must
//! have a `Shape` too; `#[shape(name = "Job")]` picks another name.

use proc_macro::TokenStream;
use quote::quote;
use syn::{DeriveInput, LitStr, parse_macro_input, parse_quote};

/// Implements `quack_core::Shape` for a struct or an enum: its shape is its name.
///
/// ```text
/// #[derive(serde::Deserialize, quack_core::Shape)]
/// struct Task { n: u64 }
/// // Task::shape() == "Task"
/// ```
#[proc_macro_derive(Shape, attributes(shape))]
pub fn derive_shape(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand(mut input: DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    if let syn::Data::Union(data) = &input.data {
        return Err(syn::Error::new(
            data.union_token.span,
            "`#[derive(Shape)]` works on structs and enums, not unions: a union has no JSON form",
        ));
    }
    let mut name = input.ident.to_string();
    for attribute in &input.attrs {
        if attribute.path().is_ident("shape") {
            attribute.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    name = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    Err(meta.error("unknown `shape` attribute: the only one is `name = \"...\"`"))
                }
            })?;
        }
    }
    let type_params: Vec<syn::Ident> = input
        .generics
        .type_params()
        .map(|param| param.ident.clone())
        .collect();
    for param in input.generics.type_params_mut() {
        param.bounds.push(parse_quote!(::quack_core::Shape));
    }
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let body = if type_params.is_empty() {
        quote! { ::std::string::String::from(#name) }
    } else {
        quote! {
            let params: ::std::vec::Vec<::std::string::String> =
                ::std::vec![#(<#type_params as ::quack_core::Shape>::shape()),*];
            ::std::format!("{}<{}>", #name, params.join(", "))
        }
    };
    Ok(quote! {
        impl #impl_generics ::quack_core::Shape for #ident #type_generics #where_clause {
            fn shape() -> ::std::string::String {
                #body
            }
        }
    })
}
